from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_payload import EventPayload


T = TypeVar("T", bound="EventBatchBatchEvent")


@_attrs_define
class EventBatchBatchEvent:
    """One event of a batch: what POST /events takes, with the key that header would carry.

    Attributes:
        created_dt (datetime.datetime):
        event_type (str): The key of an active workflow (GET /workflows).
        payload (EventPayload): Who gets the event: `user` (the ids) or `audience` (a topic's members when it is fanned
            out).
        idempotency_key (None | str | Unset): As the Idempotency-Key header of POST /events, in the same namespace: an
            event posted again with its key answers as the first time. Events without one are not deduplicated.
        priority (int | Unset): 0-9; the workflow's own priority when left out.
        schedule (None | str | Unset):
        start_dt (datetime.datetime | None | Unset):
        timezone (str | Unset):  Default: 'UTC'.
    """

    created_dt: datetime.datetime
    event_type: str
    payload: EventPayload
    idempotency_key: None | str | Unset = UNSET
    priority: int | Unset = UNSET
    schedule: None | str | Unset = UNSET
    start_dt: datetime.datetime | None | Unset = UNSET
    timezone: str | Unset = "UTC"

    def to_dict(self) -> dict[str, Any]:
        created_dt = self.created_dt.isoformat()

        event_type = self.event_type

        payload = self.payload.to_dict()

        idempotency_key: None | str | Unset
        if isinstance(self.idempotency_key, Unset):
            idempotency_key = UNSET
        else:
            idempotency_key = self.idempotency_key

        priority = self.priority

        schedule: None | str | Unset
        if isinstance(self.schedule, Unset):
            schedule = UNSET
        else:
            schedule = self.schedule

        start_dt: None | str | Unset
        if isinstance(self.start_dt, Unset):
            start_dt = UNSET
        elif isinstance(self.start_dt, datetime.datetime):
            start_dt = self.start_dt.isoformat()
        else:
            start_dt = self.start_dt

        timezone = self.timezone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "created_dt": created_dt,
                "event_type": event_type,
                "payload": payload,
            }
        )
        if idempotency_key is not UNSET:
            field_dict["idempotency_key"] = idempotency_key
        if priority is not UNSET:
            field_dict["priority"] = priority
        if schedule is not UNSET:
            field_dict["schedule"] = schedule
        if start_dt is not UNSET:
            field_dict["start_dt"] = start_dt
        if timezone is not UNSET:
            field_dict["timezone"] = timezone

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_payload import EventPayload  # noqa: PLC0415

        d = dict(src_dict)
        created_dt = datetime.datetime.fromisoformat(d.pop("created_dt"))

        event_type = d.pop("event_type")

        payload = EventPayload.from_dict(d.pop("payload"))

        def _parse_idempotency_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        idempotency_key = _parse_idempotency_key(d.pop("idempotency_key", UNSET))

        priority = d.pop("priority", UNSET)

        def _parse_schedule(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        schedule = _parse_schedule(d.pop("schedule", UNSET))

        def _parse_start_dt(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                start_dt_type_0 = datetime.datetime.fromisoformat(data)

                return start_dt_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        start_dt = _parse_start_dt(d.pop("start_dt", UNSET))

        timezone = d.pop("timezone", UNSET)

        event_batch_batch_event = cls(
            created_dt=created_dt,
            event_type=event_type,
            payload=payload,
            idempotency_key=idempotency_key,
            priority=priority,
            schedule=schedule,
            start_dt=start_dt,
            timezone=timezone,
        )

        return event_batch_batch_event
