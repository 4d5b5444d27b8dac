from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.engagement_times import EngagementTimes


T = TypeVar("T", bound="EngagementView")


@_attrs_define
class EngagementView:
    """
    Attributes:
        engagement (EngagementTimes): When a recipient first opened, clicked or read a notification (None: not yet).
        id (UUID):
        recorded (bool):
    """

    engagement: EngagementTimes
    id: UUID
    recorded: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        engagement = self.engagement.to_dict()

        id = str(self.id)

        recorded = self.recorded

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "engagement": engagement,
                "id": id,
                "recorded": recorded,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.engagement_times import EngagementTimes  # noqa: PLC0415

        d = dict(src_dict)
        engagement = EngagementTimes.from_dict(d.pop("engagement"))

        id = UUID(d.pop("id"))

        recorded = d.pop("recorded")

        engagement_view = cls(
            engagement=engagement,
            id=id,
            recorded=recorded,
        )

        engagement_view.additional_properties = d
        return engagement_view

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
