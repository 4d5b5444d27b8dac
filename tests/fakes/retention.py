"""Retention in memory: the outbox's published messages go as in PostgreSQL; for notifications and
feedback it records the cut-offs it was asked for (their tables are PostgreSQL's to test)."""

from datetime import datetime

from tests.fakes.tables import FakeTables


class FakeRetention(FakeTables):
    pruned: list[tuple[str, datetime]]

    def _asked(self, kind: str, before: datetime) -> None:
        if not hasattr(self, "pruned"):
            self.pruned = []
        self.pruned.append((kind, before))

    def delete_published_outbox(self, before: datetime, limit: int) -> int:
        self._asked("outbox", before)
        old = [
            message_id
            for message_id, row in self.outbox.items()
            if row.published_at is not None and row.published_at < before and row.parked_at is None
        ][:limit]
        for message_id in old:
            del self.outbox[message_id]
        return len(old)

    def delete_finished_notifications(self, before: datetime, limit: int) -> int:
        self._asked("notifications", before)
        return 0

    def delete_feedback(self, before: datetime, limit: int) -> int:
        self._asked("feedback", before)
        return 0
