from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LastRun")


@_attrs_define
class LastRun:
    """
    Attributes:
        created_dt (datetime.datetime):
        event_id (UUID):
        notifications (int):
        recipients (int):
    """

    created_dt: datetime.datetime
    event_id: UUID
    notifications: int
    recipients: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_dt = self.created_dt.isoformat()

        event_id = str(self.event_id)

        notifications = self.notifications

        recipients = self.recipients

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_dt": created_dt,
                "event_id": event_id,
                "notifications": notifications,
                "recipients": recipients,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_dt = datetime.datetime.fromisoformat(d.pop("created_dt"))

        event_id = UUID(d.pop("event_id"))

        notifications = d.pop("notifications")

        recipients = d.pop("recipients")

        last_run = cls(
            created_dt=created_dt,
            event_id=event_id,
            notifications=notifications,
            recipients=recipients,
        )

        last_run.additional_properties = d
        return last_run

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
