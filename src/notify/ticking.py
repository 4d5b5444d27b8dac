"""What the minute tick does. Scheduling code takes `now`; it never reads the clock itself."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from notify.channels import Channel, queue_name, tier_for
from notify.ports import Outbox, Publisher, ScheduleStore, WaitingNotifications
from notify.relay import publish_outbox, republish_unpublished
from notify.scheduling import fire_due_schedules


@dataclass(frozen=True)
class TickReport:
    occurrences_sent: int
    occurrences_skipped_late: int
    released: int
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
    waiting: WaitingNotifications | None = None,
    reservations_kept_for: timedelta | None = None,
) -> TickReport:
    """Send the occurrences that are due and the notifications whose wait is over, then
    whatever an outage left in the outbox."""
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
    released = (
        release_waiting(
            now=now,
            waiting=waiting,
            outbox=outbox,
            publisher=publisher,
            queue_prefix=queue_prefix,
            chunk_size=chunk_size,
            reservations_kept_for=reservations_kept_for,
        )
        if waiting is not None
        else 0
    )
    republished = republish_unpublished(publisher=publisher, outbox=outbox, now=now, grace_s=outbox_grace_s)
    return TickReport(
        occurrences_sent=fired.sent,
        occurrences_skipped_late=fired.skipped_late,
        released=released,
        republished=republished,
    )


def release_waiting(
    *,
    now: datetime,
    waiting: WaitingNotifications,
    outbox: Outbox,
    publisher: Publisher,
    queue_prefix: str,
    chunk_size: int,
    batch_size: int = 1000,
    max_batches: int = 100,
    reservations_kept_for: timedelta | None = None,
) -> int:
    """Send what quiet hours deferred and what digest windows held, now that their time has come.
    Returns how many notifications went back to their queues (a digest counts once)."""
    queues = {
        f"{channel}-{priority}": queue_name(channel, tier_for(priority), queue_prefix)
        for channel in Channel
        for priority in range(10)
    }
    if reservations_kept_for is not None:
        waiting.prune_reservations(now - reservations_kept_for)
    released = 0
    for _ in range(max_batches):
        batch = waiting.release_waiting(now, batch_size, queues, chunk_size)
        if batch.outbox:
            publish_outbox(batch.outbox, publisher=publisher, outbox=outbox, now=now)
        released += batch.notifications
        if batch.notifications == 0:
            break
    return released
