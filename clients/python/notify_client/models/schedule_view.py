from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.schedule_state import ScheduleState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.last_run import LastRun


T = TypeVar("T", bound="ScheduleView")


@_attrs_define
class ScheduleView:
    """
    Attributes:
        created_at (datetime.datetime):
        cron (None | str):
        event_type (str):
        last_run_at (datetime.datetime | None):
        next_run_at (datetime.datetime | None):
        priority (int):
        runs (int):
        schedule_id (UUID):
        skipped_runs (int):
        start_dt (datetime.datetime | None):
        state (ScheduleState): A schedule runs while active; paused, it skips its runs; done (no run left) and cancelled
            are
            final. A PATCH may set active or paused.
        timezone (str):
        users (int):
        audience (None | str | Unset):
        last_run (LastRun | None | Unset):
        next_runs (list[datetime.datetime] | Unset):
    """

    created_at: datetime.datetime
    cron: None | str
    event_type: str
    last_run_at: datetime.datetime | None
    next_run_at: datetime.datetime | None
    priority: int
    runs: int
    schedule_id: UUID
    skipped_runs: int
    start_dt: datetime.datetime | None
    state: ScheduleState
    timezone: str
    users: int
    audience: None | str | Unset = UNSET
    last_run: LastRun | None | Unset = UNSET
    next_runs: list[datetime.datetime] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.last_run import LastRun  # noqa: PLC0415

        created_at = self.created_at.isoformat()

        cron: None | str
        cron = self.cron

        event_type = self.event_type

        last_run_at: None | str
        if isinstance(self.last_run_at, datetime.datetime):
            last_run_at = self.last_run_at.isoformat()
        else:
            last_run_at = self.last_run_at

        next_run_at: None | str
        if isinstance(self.next_run_at, datetime.datetime):
            next_run_at = self.next_run_at.isoformat()
        else:
            next_run_at = self.next_run_at

        priority = self.priority

        runs = self.runs

        schedule_id = str(self.schedule_id)

        skipped_runs = self.skipped_runs

        start_dt: None | str
        if isinstance(self.start_dt, datetime.datetime):
            start_dt = self.start_dt.isoformat()
        else:
            start_dt = self.start_dt

        state = self.state.value

        timezone = self.timezone

        users = self.users

        audience: None | str | Unset
        if isinstance(self.audience, Unset):
            audience = UNSET
        else:
            audience = self.audience

        last_run: dict[str, Any] | None | Unset
        if isinstance(self.last_run, Unset):
            last_run = UNSET
        elif isinstance(self.last_run, LastRun):
            last_run = self.last_run.to_dict()
        else:
            last_run = self.last_run

        next_runs: list[str] | Unset = UNSET
        if not isinstance(self.next_runs, Unset):
            next_runs = []
            for next_runs_item_data in self.next_runs:
                next_runs_item = next_runs_item_data.isoformat()
                next_runs.append(next_runs_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "cron": cron,
                "event_type": event_type,
                "last_run_at": last_run_at,
                "next_run_at": next_run_at,
                "priority": priority,
                "runs": runs,
                "schedule_id": schedule_id,
                "skipped_runs": skipped_runs,
                "start_dt": start_dt,
                "state": state,
                "timezone": timezone,
                "users": users,
            }
        )
        if audience is not UNSET:
            field_dict["audience"] = audience
        if last_run is not UNSET:
            field_dict["last_run"] = last_run
        if next_runs is not UNSET:
            field_dict["next_runs"] = next_runs

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.last_run import LastRun  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_cron(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        cron = _parse_cron(d.pop("cron"))

        event_type = d.pop("event_type")

        def _parse_last_run_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_run_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_run_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        last_run_at = _parse_last_run_at(d.pop("last_run_at"))

        def _parse_next_run_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_run_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_run_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_run_at = _parse_next_run_at(d.pop("next_run_at"))

        priority = d.pop("priority")

        runs = d.pop("runs")

        schedule_id = UUID(d.pop("schedule_id"))

        skipped_runs = d.pop("skipped_runs")

        def _parse_start_dt(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                start_dt_type_0 = datetime.datetime.fromisoformat(data)

                return start_dt_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        start_dt = _parse_start_dt(d.pop("start_dt"))

        state = ScheduleState(d.pop("state"))

        timezone = d.pop("timezone")

        users = d.pop("users")

        def _parse_audience(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audience = _parse_audience(d.pop("audience", UNSET))

        def _parse_last_run(data: object) -> LastRun | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                last_run_type_0 = LastRun.from_dict(data)

                return last_run_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LastRun | None | Unset, data)

        last_run = _parse_last_run(d.pop("last_run", UNSET))

        _next_runs = d.pop("next_runs", UNSET)
        next_runs: list[datetime.datetime] | Unset = UNSET
        if _next_runs is not UNSET:
            next_runs = []
            for next_runs_item_data in _next_runs:
                next_runs_item = datetime.datetime.fromisoformat(next_runs_item_data)

                next_runs.append(next_runs_item)

        schedule_view = cls(
            created_at=created_at,
            cron=cron,
            event_type=event_type,
            last_run_at=last_run_at,
            next_run_at=next_run_at,
            priority=priority,
            runs=runs,
            schedule_id=schedule_id,
            skipped_runs=skipped_runs,
            start_dt=start_dt,
            state=state,
            timezone=timezone,
            users=users,
            audience=audience,
            last_run=last_run,
            next_runs=next_runs,
        )

        schedule_view.additional_properties = d
        return schedule_view

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
