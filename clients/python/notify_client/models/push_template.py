from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PushTemplate")


@_attrs_define
class PushTemplate:
    """
    Attributes:
        body (str):
        title (str):
    """

    body: str
    title: str

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        title = self.title

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "body": body,
                "title": title,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        body = d.pop("body")

        title = d.pop("title")

        push_template = cls(
            body=body,
            title=title,
        )

        return push_template
