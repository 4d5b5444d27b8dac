from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EmailTemplate")


@_attrs_define
class EmailTemplate:
    """
    Attributes:
        subject (str):
        text (str):
        html (None | str | Unset):
    """

    subject: str
    text: str
    html: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        subject = self.subject

        text = self.text

        html: None | str | Unset
        if isinstance(self.html, Unset):
            html = UNSET
        else:
            html = self.html

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "subject": subject,
                "text": text,
            }
        )
        if html is not UNSET:
            field_dict["html"] = html

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        subject = d.pop("subject")

        text = d.pop("text")

        def _parse_html(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        html = _parse_html(d.pop("html", UNSET))

        email_template = cls(
            subject=subject,
            text=text,
            html=html,
        )

        return email_template
