from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.templates_email import TemplatesEmail
    from ..models.templates_push import TemplatesPush
    from ..models.templates_sms import TemplatesSms


T = TypeVar("T", bound="Templates")


@_attrs_define
class Templates:
    """Per channel, per locale. A recipient whose locale a channel lacks reads `en`, else the first.

    Attributes:
        email (TemplatesEmail | Unset):
        push (TemplatesPush | Unset):
        sms (TemplatesSms | Unset):
    """

    email: TemplatesEmail | Unset = UNSET
    push: TemplatesPush | Unset = UNSET
    sms: TemplatesSms | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        email: dict[str, Any] | Unset = UNSET
        if not isinstance(self.email, Unset):
            email = self.email.to_dict()

        push: dict[str, Any] | Unset = UNSET
        if not isinstance(self.push, Unset):
            push = self.push.to_dict()

        sms: dict[str, Any] | Unset = UNSET
        if not isinstance(self.sms, Unset):
            sms = self.sms.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if email is not UNSET:
            field_dict["email"] = email
        if push is not UNSET:
            field_dict["push"] = push
        if sms is not UNSET:
            field_dict["sms"] = sms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.templates_email import TemplatesEmail  # noqa: PLC0415
        from ..models.templates_push import TemplatesPush  # noqa: PLC0415
        from ..models.templates_sms import TemplatesSms  # noqa: PLC0415

        d = dict(src_dict)
        _email = d.pop("email", UNSET)
        email: TemplatesEmail | Unset
        if isinstance(_email, Unset):
            email = UNSET
        else:
            email = TemplatesEmail.from_dict(_email)

        _push = d.pop("push", UNSET)
        push: TemplatesPush | Unset
        if isinstance(_push, Unset):
            push = UNSET
        else:
            push = TemplatesPush.from_dict(_push)

        _sms = d.pop("sms", UNSET)
        sms: TemplatesSms | Unset
        if isinstance(_sms, Unset):
            sms = UNSET
        else:
            sms = TemplatesSms.from_dict(_sms)

        templates = cls(
            email=email,
            push=push,
            sms=sms,
        )

        return templates
