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
    from ..models.fan_out_view import FanOutView


T = TypeVar("T", bound="EventAccepted")


@_attrs_define
class EventAccepted:
    """
    Attributes:
        event_id (UUID):
        notifications (int):
        recipients (int):
        skipped_users (list[str]):
        status (EventStatus): An event is queued (its notifications are made, or being made for an audience), scheduled
            (it
            fires later, or on a cron) or cancelled. An accepted event is queued or scheduled.
        fan_out (FanOutView | None | Unset):
        next_run_at (datetime.datetime | None | Unset):
        schedule_id (None | Unset | UUID):
    """

    event_id: UUID
    notifications: int
    recipients: int
    skipped_users: list[str]
    status: EventStatus
    fan_out: FanOutView | None | Unset = UNSET
    next_run_at: datetime.datetime | None | Unset = UNSET
    schedule_id: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fan_out_view import FanOutView  # noqa: PLC0415

        event_id = str(self.event_id)

        notifications = self.notifications

        recipients = self.recipients

        skipped_users = self.skipped_users

        status = self.status.value

        fan_out: dict[str, Any] | None | Unset
        if isinstance(self.fan_out, Unset):
            fan_out = UNSET
        elif isinstance(self.fan_out, FanOutView):
            fan_out = self.fan_out.to_dict()
        else:
            fan_out = self.fan_out

        next_run_at: None | str | Unset
        if isinstance(self.next_run_at, Unset):
            next_run_at = UNSET
        elif isinstance(self.next_run_at, datetime.datetime):
            next_run_at = self.next_run_at.isoformat()
        else:
            next_run_at = self.next_run_at

        schedule_id: None | str | Unset
        if isinstance(self.schedule_id, Unset):
            schedule_id = UNSET
        elif isinstance(self.schedule_id, UUID):
            schedule_id = str(self.schedule_id)
        else:
            schedule_id = self.schedule_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "event_id": event_id,
                "notifications": notifications,
                "recipients": recipients,
                "skipped_users": skipped_users,
                "status": status,
            }
        )
        if fan_out is not UNSET:
            field_dict["fan_out"] = fan_out
        if next_run_at is not UNSET:
            field_dict["next_run_at"] = next_run_at
        if schedule_id is not UNSET:
            field_dict["schedule_id"] = schedule_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.fan_out_view import FanOutView  # noqa: PLC0415

        d = dict(src_dict)
        event_id = UUID(d.pop("event_id"))

        notifications = d.pop("notifications")

        recipients = d.pop("recipients")

        skipped_users = cast(list[str], d.pop("skipped_users"))

        status = EventStatus(d.pop("status"))

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

        def _parse_next_run_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_run_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_run_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        next_run_at = _parse_next_run_at(d.pop("next_run_at", UNSET))

        def _parse_schedule_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                schedule_id_type_0 = UUID(data)

                return schedule_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        schedule_id = _parse_schedule_id(d.pop("schedule_id", UNSET))

        event_accepted = cls(
            event_id=event_id,
            notifications=notifications,
            recipients=recipients,
            skipped_users=skipped_users,
            status=status,
            fan_out=fan_out,
            next_run_at=next_run_at,
            schedule_id=schedule_id,
        )

        event_accepted.additional_properties = d
        return event_accepted

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
