"""The port of the rows that wait: deferred (quiet hours), held (digest windows), abandoned or lost."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from notify.ports import OutboundMessage


@dataclass(frozen=True)
class ReleasedBatch:
    notifications: int
    outbox: list[OutboundMessage] = field(default_factory=list)
    failed: int = 0  # rows whose message was lost after their last allowed attempt, failed instead


class WaitingNotifications(Protocol):
    def prune_reservations(self, before: datetime) -> int: ...

    def release_waiting(
        self, now: datetime, limit: int, queue_by_channel_priority: dict[str, str], chunk_size: int
    ) -> ReleasedBatch:
        """Queue again what was deferred or held until now (digests closed) and what an attempt
        that died left `sending`, with its messages stored in the outbox; keys of
        `queue_by_channel_priority` are "<channel>-<priority>"."""
        ...

    def oldest_queued_s(self, now: datetime) -> float | None:
        """How long the row waiting longest in a queue (`queued`, `retrying`) has waited; None: none does."""
        ...

    def requeue_lost(
        self,
        now: datetime,
        *,
        queued_before: datetime,
        attempt_budget: int,
        limit: int,
        queue_by_channel_priority: dict[str, str],
        chunk_size: int,
        routes: Collection[str] | None = None,
    ) -> ReleasedBatch:
        """Rows `queued` or `retrying` since before `queued_before`, on one of `routes` ("<channel>-
        <priority>" whose queue holds nothing; None: every route), have lost their message: those
        with fewer than `attempt_budget` attempts are queued again (messages in the outbox), the
        others fail (`retries_exhausted`, counted in `failed`). At most `limit` rows, oldest first."""
        ...
