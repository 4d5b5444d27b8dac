"""The outbox in memory: claims with a lease, published and parked messages."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from notify.outbox.ports import OutboundMessage, Refused
from tests.fakes.tables import FakeTables


class FakeOutbox(FakeTables):
    """What the relay claims, publishes and parks; `unpublished` and `parked` are for assertions."""

    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        for message_id in message_ids:
            row = self.outbox[message_id]
            row.published_at, row.claimed_until = now, None

    def park(self, refused: Sequence[Refused], now: datetime) -> None:
        for refusal in refused:
            row = self.outbox[refusal.message_id]
            if row.published_at is None:
                row.parked_at, row.error, row.claimed_until = now, refusal.error, None

    def parked_count(self) -> int:
        return sum(1 for row in self.outbox.values() if row.parked_at is not None)

    def claim_unpublished(
        self, now: datetime, older_than: datetime, limit: int, lease_s: int
    ) -> list[OutboundMessage]:
        due = sorted(
            (
                row
                for row in self.outbox.values()
                if row.published_at is None
                and row.parked_at is None
                and row.created_at < older_than
                and (row.claimed_until is None or row.claimed_until < now)
            ),
            key=lambda row: row.created_at,
        )[:limit]
        for row in due:
            row.claimed_until = now + timedelta(seconds=lease_s)
        return [row.message for row in due]

    def unpublished(self) -> list[OutboundMessage]:
        """Waiting for the relay: neither published nor parked."""
        return [
            row.message for row in self.outbox.values() if row.published_at is None and row.parked_at is None
        ]

    def parked(self) -> dict[uuid.UUID, str | None]:
        return {message_id: row.error for message_id, row in self.outbox.items() if row.parked_at is not None}
