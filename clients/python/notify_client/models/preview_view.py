from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.rendered_email import RenderedEmail
    from ..models.rendered_push import RenderedPush
    from ..models.rendered_sms import RenderedSms


T = TypeVar("T", bound="PreviewView")


@_attrs_define
class PreviewView:
    """The texts each channel's send step would send the user, rendered as the senders render them.

    Attributes:
        key (str):
        locale (str):
        version (int):
        email (None | RenderedEmail | Unset):
        push (None | RenderedPush | Unset):
        sms (None | RenderedSms | Unset):
    """

    key: str
    locale: str
    version: int
    email: None | RenderedEmail | Unset = UNSET
    push: None | RenderedPush | Unset = UNSET
    sms: None | RenderedSms | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.rendered_email import RenderedEmail  # noqa: PLC0415
        from ..models.rendered_push import RenderedPush  # noqa: PLC0415
        from ..models.rendered_sms import RenderedSms  # noqa: PLC0415

        key = self.key

        locale = self.locale

        version = self.version

        email: dict[str, Any] | None | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        elif isinstance(self.email, RenderedEmail):
            email = self.email.to_dict()
        else:
            email = self.email

        push: dict[str, Any] | None | Unset
        if isinstance(self.push, Unset):
            push = UNSET
        elif isinstance(self.push, RenderedPush):
            push = self.push.to_dict()
        else:
            push = self.push

        sms: dict[str, Any] | None | Unset
        if isinstance(self.sms, Unset):
            sms = UNSET
        elif isinstance(self.sms, RenderedSms):
            sms = self.sms.to_dict()
        else:
            sms = self.sms

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key": key,
                "locale": locale,
                "version": version,
            }
        )
        if email is not UNSET:
            field_dict["email"] = email
        if push is not UNSET:
            field_dict["push"] = push
        if sms is not UNSET:
            field_dict["sms"] = sms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rendered_email import RenderedEmail  # noqa: PLC0415
        from ..models.rendered_push import RenderedPush  # noqa: PLC0415
        from ..models.rendered_sms import RenderedSms  # noqa: PLC0415

        d = dict(src_dict)
        key = d.pop("key")

        locale = d.pop("locale")

        version = d.pop("version")

        def _parse_email(data: object) -> None | RenderedEmail | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                email_type_0 = RenderedEmail.from_dict(data)

                return email_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RenderedEmail | Unset, data)

        email = _parse_email(d.pop("email", UNSET))

        def _parse_push(data: object) -> None | RenderedPush | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                push_type_0 = RenderedPush.from_dict(data)

                return push_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RenderedPush | Unset, data)

        push = _parse_push(d.pop("push", UNSET))

        def _parse_sms(data: object) -> None | RenderedSms | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sms_type_0 = RenderedSms.from_dict(data)

                return sms_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RenderedSms | Unset, data)

        sms = _parse_sms(d.pop("sms", UNSET))

        preview_view = cls(
            key=key,
            locale=locale,
            version=version,
            email=email,
            push=push,
            sms=sms,
        )

        preview_view.additional_properties = d
        return preview_view

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
