from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.engagement_request_action import EngagementRequestAction

T = TypeVar("T", bound="EngagementRequest")


@_attrs_define
class EngagementRequest:
    """
    Attributes:
        action (EngagementRequestAction):
    """

    action: EngagementRequestAction

    def to_dict(self) -> dict[str, Any]:
        action = self.action.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "action": action,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        action = EngagementRequestAction(d.pop("action"))

        engagement_request = cls(
            action=action,
        )

        return engagement_request
