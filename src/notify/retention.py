"""Rows kept no longer than they are of use. Each tick deletes, in bounded batches while its time
allows: the outbox's published messages after `outbox_for` (their bodies hold addresses), and after
`records_for` the finished notifications (their events with them, once an event has none left) and
the providers' feedback. Messages parked for an operator and unfinished notifications are kept."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class Retention(Protocol):
    def delete_published_outbox(self, before: datetime, limit: int) -> int:
        """At most `limit` outbox messages published before `before`; how many went."""
        ...

    def delete_finished_notifications(self, before: datetime, limit: int) -> int:
        """At most `limit` finished notifications of events received before `before`, then such events
        left with none (at most `limit`); how many notifications went."""
        ...

    def delete_feedback(self, before: datetime, limit: int) -> int:
        """At most `limit` feedback records received before `before`; how many went."""
        ...


@dataclass(frozen=True)
class RetentionPolicy:
    outbox_for: timedelta
    records_for: timedelta
    batch: int = 5_000  # rows per statement: each is one short transaction
    batches: int = 20  # statements per kind of row per tick, at most


@dataclass(frozen=True)
class PruneReport:
    outbox: int = 0
    notifications: int = 0
    feedback: int = 0


def prune_old_rows(
    retention: Retention, policy: RetentionPolicy, now: datetime, time_left: Callable[[], float]
) -> PruneReport:
    """Each kind of row in turn, batch after batch until one comes back short, `policy.batches` were
    taken or the time is up."""
    deleted: dict[str, int] = {}
    kinds = (
        ("outbox", retention.delete_published_outbox, policy.outbox_for),
        ("notifications", retention.delete_finished_notifications, policy.records_for),
        ("feedback", retention.delete_feedback, policy.records_for),
    )
    for name, delete, kept_for in kinds:
        deleted[name] = 0
        for _ in range(policy.batches):
            if time_left() <= 0:
                break
            went = delete(now - kept_for, policy.batch)
            deleted[name] += went
            if went < policy.batch:
                break
    return PruneReport(**deleted)
