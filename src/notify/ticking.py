"""What the minute tick does. Scheduling code takes `now`; it never reads the clock itself."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from notify.ports import Outbox, Publisher, ScheduleStore
from notify.relay import republish_unpublished
from notify.scheduling import fire_due_schedules


@dataclass(frozen=True)
class TickReport:
    occurrences_sent: int
    occurrences_skipped_late: int
    republished: int


def run_tick(
    *,
    now: datetime,
    schedules: ScheduleStore,
    outbox: Outbox,
    publisher: Publisher,
    outbox_grace_s: int,
    max_lateness: timedelta = timedelta(hours=1),
    queue_prefix: str = "notify",
    chunk_size: int = 250,
    batch_size: int = 1000,
) -> TickReport:
    """Send the occurrences that are due, then whatever an outage left in the outbox."""
    fired = fire_due_schedules(
        now=now,
        schedules=schedules,
        outbox=outbox,
        publisher=publisher,
        max_lateness=max_lateness,
        queue_prefix=queue_prefix,
        chunk_size=chunk_size,
        batch_size=batch_size,
    )
    republished = republish_unpublished(publisher=publisher, outbox=outbox, now=now, grace_s=outbox_grace_s)
    return TickReport(
        occurrences_sent=fired.sent, occurrences_skipped_late=fired.skipped_late, republished=republished
    )
