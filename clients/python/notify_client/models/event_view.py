from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_status import EventStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_view_counts import EventViewCounts
    from ..models.fan_out_view import FanOutView


T = TypeVar("T", bound="EventView")


@_attrs_define
class EventView:
    """
    Attributes:
        counts (EventViewCounts):
        created_dt (datetime.datetime):
        event_id (UUID):
        event_type (str):
        notifications (int):
        priority (int):
        recipients (int):
        schedule_id (None | UUID):
        skipped_users (list[str]):
        status (EventStatus): An event is queued (its notifications are made, or being made for an audience), scheduled
            (it
            fires later, or on a cron) or cancelled. An accepted event is queued or scheduled.
        audience (None | str | Unset):
        fan_out (FanOutView | None | Unset):
    """

    counts: EventViewCounts
    created_dt: datetime.datetime
    event_id: UUID
    event_type: str
    notifications: int
    priority: int
    recipients: int
    schedule_id: None | UUID
    skipped_users: list[str]
    status: EventStatus
    audience: None | str | Unset = UNSET
    fan_out: FanOutView | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fan_out_view import FanOutView  # noqa: PLC0415

        counts = self.counts.to_dict()

        created_dt = self.created_dt.isoformat()

        event_id = str(self.event_id)

        event_type = self.event_type

        notifications = self.notifications

        priority = self.priority

        recipients = self.recipients

        schedule_id: None | str
        if isinstance(self.schedule_id, UUID):
            schedule_id = str(self.schedule_id)
        else:
            schedule_id = self.schedule_id

        skipped_users = self.skipped_users

        status = self.status.value

        audience: None | str | Unset
        if isinstance(self.audience, Unset):
            audience = UNSET
        else:
            audience = self.audience

        fan_out: dict[str, Any] | None | Unset
        if isinstance(self.fan_out, Unset):
            fan_out = UNSET
        elif isinstance(self.fan_out, FanOutView):
            fan_out = self.fan_out.to_dict()
        else:
            fan_out = self.fan_out

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "counts": counts,
                "created_dt": created_dt,
                "event_id": event_id,
                "event_type": event_type,
                "notifications": notifications,
                "priority": priority,
                "recipients": recipients,
                "schedule_id": schedule_id,
                "skipped_users": skipped_users,
                "status": status,
            }
        )
        if audience is not UNSET:
            field_dict["audience"] = audience
        if fan_out is not UNSET:
            field_dict["fan_out"] = fan_out

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_view_counts import EventViewCounts  # noqa: PLC0415
        from ..models.fan_out_view import FanOutView  # noqa: PLC0415

        d = dict(src_dict)
        counts = EventViewCounts.from_dict(d.pop("counts"))

        created_dt = datetime.datetime.fromisoformat(d.pop("created_dt"))

        event_id = UUID(d.pop("event_id"))

        event_type = d.pop("event_type")

        notifications = d.pop("notifications")

        priority = d.pop("priority")

        recipients = d.pop("recipients")

        def _parse_schedule_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                schedule_id_type_0 = UUID(data)

                return schedule_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        schedule_id = _parse_schedule_id(d.pop("schedule_id"))

        skipped_users = cast(list[str], d.pop("skipped_users"))

        status = EventStatus(d.pop("status"))

        def _parse_audience(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audience = _parse_audience(d.pop("audience", UNSET))

        def _parse_fan_out(data: object) -> FanOutView | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                fan_out_type_0 = FanOutView.from_dict(data)

                return fan_out_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FanOutView | None | Unset, data)

        fan_out = _parse_fan_out(d.pop("fan_out", UNSET))

        event_view = cls(
            counts=counts,
            created_dt=created_dt,
            event_id=event_id,
            event_type=event_type,
            notifications=notifications,
            priority=priority,
            recipients=recipients,
            schedule_id=schedule_id,
            skipped_users=skipped_users,
            status=status,
            audience=audience,
            fan_out=fan_out,
        )

        event_view.additional_properties = d
        return event_view

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
