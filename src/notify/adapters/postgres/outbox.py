"""The outbox: messages written with their rows, published after commit or by the relay."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from notify.adapters.postgres.database import Repository
from notify.outbox import OutboundMessage, Refused


class PostgresOutbox(Repository):
    """Outbox."""

    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                "UPDATE outbox SET published_at = %s, claimed_until = NULL WHERE message_id = ANY(%s)",
                (now, list(message_ids)),
            )

    def park(self, refused: Sequence[Refused], now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                """
                UPDATE outbox o SET parked_at = %s, error = r.error, claimed_until = NULL
                FROM unnest(%s::uuid[], %s::text[]) AS r(message_id, error)
                WHERE o.message_id = r.message_id AND o.published_at IS NULL
                """,
                (now, [r.message_id for r in refused], [r.error[:1000] for r in refused]),
            )

    def parked_count(self) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL").fetchone()
        assert row is not None
        return int(row[0])

    def claim_unpublished(
        self, now: datetime, older_than: datetime, limit: int, lease_s: int
    ) -> list[OutboundMessage]:
        with self._connection() as conn:
            rows = conn.execute(
                """
                UPDATE outbox SET claimed_until = %(until)s
                WHERE message_id IN (
                    SELECT message_id FROM outbox
                    WHERE published_at IS NULL AND parked_at IS NULL AND created_at < %(older_than)s
                      AND (claimed_until IS NULL OR claimed_until < %(now)s)
                    ORDER BY created_at
                    LIMIT %(limit)s
                    FOR UPDATE SKIP LOCKED)
                RETURNING message_id, queue, body
                """,
                {
                    "until": now + timedelta(seconds=lease_s),
                    "older_than": older_than,
                    "now": now,
                    "limit": limit,
                },
            ).fetchall()
        return [OutboundMessage(row[0], row[1], row[2].encode()) for row in rows]
