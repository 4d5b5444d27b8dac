"""The scheduling capability's ports: the schedule store and what it fires."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from notify.channels import Channel
from notify.outbox import OutboundMessage
from notify.scheduling.models import SchedulePage, ScheduleView


@dataclass(frozen=True)
class DueSchedule:
    """A schedule whose next run has come, as the tick claims it."""

    schedule_id: uuid.UUID
    event_type: str
    priority: int
    cron: str | None
    timezone: str
    due_at: datetime
    workflow_version: int | None = 1  # the workflow's current version now; None: archived


@dataclass(frozen=True)
class Firing:
    """What the tick does with one due schedule: send an occurrence (or skip a stale one) and
    move the schedule on (`next_run_at` None: it has run its course)."""

    schedule_id: uuid.UUID
    occurrence_at: datetime
    send: bool
    next_run_at: datetime | None
    event_id: uuid.UUID
    queue_by_channel: dict[Channel, str]
    # The version the occurrence runs (the one current when it fires). It sends at once on each channel
    # of queue_by_channel, the send step of each being its position there.
    workflow_version: int = 1


@dataclass(frozen=True)
class FiredBatch:
    claimed: int
    sent: int
    skipped_late: int
    outbox: list[OutboundMessage] = field(default_factory=list)


class ScheduleStore(Protocol):
    def fire_due(
        self,
        now: datetime,
        limit: int,
        plan: Callable[[list[DueSchedule]], list[Firing]],
        chunk_size: int,
        max_users: int,
    ) -> FiredBatch:
        """In one transaction: claim up to `limit` due schedules, oldest first, while their user lists
        add up to no more than `max_users` (the first is taken whatever its size), skipping those
        another tick holds; let `plan` decide, store the occurrences' events, notifications and
        messages, and move the schedules on."""
        ...

    def list_schedules(
        self, event_type: str | None, state: str | None, limit: int, cursor: str | None
    ) -> SchedulePage: ...

    def get_schedule(self, schedule_id: uuid.UUID) -> ScheduleView | None: ...

    def update_schedule(
        self,
        schedule_id: uuid.UUID,
        *,
        state: str,
        cron: str | None,
        timezone: str,
        next_run_at: datetime | None,
    ) -> bool:
        """Change an active or paused schedule; False if it is not (any more)."""
        ...

    def cancel_schedule(self, schedule_id: uuid.UUID) -> bool:
        """Stop a schedule and every notification of its occurrences not yet sent; False if unknown."""
        ...
