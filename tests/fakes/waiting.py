"""Waiting rows in memory: deferred ones released when their time comes, old reservations pruned."""

from datetime import datetime

from notify.ports import (
    ReleasedBatch,
)
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
