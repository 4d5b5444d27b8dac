"""Waiting rows in memory: deferred ones released when their time comes, old reservations pruned."""

from collections.abc import Collection
from datetime import datetime

from notify.delivery.ports import ReleasedBatch
from tests.fakes.tables import FakeTables


class FakeWaiting(FakeTables):
    """Released rows go back to `queued`; no messages are built here."""

    def prune_reservations(self, before: datetime) -> int:
        kept = [r for r in self.reservations if r[3] >= before]
        pruned, self.reservations = len(self.reservations) - len(kept), kept
        return pruned

    def release_waiting(
        self, now: datetime, limit: int, queue_by_channel_priority: dict[str, str], chunk_size: int
    ) -> ReleasedBatch:
        """Deferred rows whose time has come go back to `queued` (no messages are built here)."""
        released = 0
        for row in self.rows.values():
            if row.status == "deferred" and row.deliver_after is not None and row.deliver_after <= now:
                row.status, row.deliver_after = "queued", None
                released += 1
        return ReleasedBatch(notifications=released)

    def oldest_queued_s(self, now: datetime) -> float | None:
        waited = [
            (now - row.queued_at).total_seconds()
            for row in self.rows.values()
            if row.status in ("queued", "retrying") and row.queued_at is not None
        ]
        return max(waited, default=None)

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
        """Rows queued before `queued_before` go back to `queued` or fail (no messages are built here;
        rows carry no priority here, so `routes` is read by channel only)."""
        lost = sorted(
            (
                row
                for (_, channel, _), row in self.rows.items()
                if row.status in ("queued", "retrying")
                and row.queued_at is not None
                and row.queued_at < queued_before
                and (routes is None or any(route.startswith(f"{channel}-") for route in routes))
            ),
            key=lambda row: row.queued_at or now,
        )[:limit]
        failed = 0
        for row in lost:
            if row.attempts >= attempt_budget:
                row.status, row.reason, failed = "failed", "retries_exhausted", failed + 1
            else:
                row.status, row.queued_at = "queued", now
        return ReleasedBatch(notifications=len(lost) - failed, failed=failed)
