"""The scheduling capability's models: schedules as the API shows and changes them."""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import (
    BaseModel,
    Field,
    field_validator,
)

from notify.models import CronText, StrictModel, ZoneName

# ---- Schedules ---------------------------------------------------------------------------------


class ScheduleState(StrEnum):
    """A schedule runs while active; paused, it skips its runs; done (no run left) and cancelled are
    final. A PATCH may set active or paused."""

    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


_SETTABLE = (ScheduleState.ACTIVE, ScheduleState.PAUSED)


class LastRun(BaseModel):
    event_id: uuid.UUID
    created_dt: datetime
    recipients: int
    notifications: int


class ScheduleView(BaseModel):
    schedule_id: uuid.UUID
    event_type: str
    priority: int
    cron: str | None
    timezone: str
    start_dt: datetime | None
    state: ScheduleState
    next_run_at: datetime | None
    last_run_at: datetime | None
    runs: int
    skipped_runs: int
    users: int
    created_at: datetime
    audience: str | None = None
    next_runs: list[datetime] = Field(default_factory=list)
    last_run: LastRun | None = None


class SchedulePage(BaseModel):
    items: list[ScheduleView]
    next_cursor: str | None


class SchedulePatch(StrictModel):
    state: ScheduleState | None = None
    cron: CronText | None = None
    timezone: ZoneName | None = None

    @field_validator("state")
    @classmethod
    def _settable(cls, state: ScheduleState | None) -> ScheduleState | None:
        if state is not None and state not in _SETTABLE:
            raise ValueError("may be set to active or paused only")
        return state
