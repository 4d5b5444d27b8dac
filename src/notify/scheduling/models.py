"""The scheduling capability's models: schedules as the API shows and changes them."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

from notify.models import CronText, StrictModel, ZoneName

# ---- Schedules ---------------------------------------------------------------------------------

ScheduleState = Literal["active", "paused", "done", "cancelled"]


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
    state: Literal["active", "paused"] | None = None
    cron: CronText | None = None
    timezone: ZoneName | None = None
