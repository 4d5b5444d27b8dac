from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Tracking")


@_attrs_define
class Tracking:
    """
    Attributes:
        clicks (bool | Unset):  Default: False.
        opens (bool | Unset):  Default: False.
    """

    clicks: bool | Unset = False
    opens: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        clicks = self.clicks

        opens = self.opens

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if clicks is not UNSET:
            field_dict["clicks"] = clicks
        if opens is not UNSET:
            field_dict["opens"] = opens

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        clicks = d.pop("clicks", UNSET)

        opens = d.pop("opens", UNSET)

        tracking = cls(
            clicks=clicks,
            opens=opens,
        )

        return tracking
