"""Delivery feedback and the suppression list.

A notification moves on by rank only (sent, unconfirmed 0 → delivered 1 → bounced, failed by a reject
2 → complained 3), so feedback can arrive in any order, twice, or before the send it names was
recorded: the ledger applies stored feedback when it records a send (`feedback_status_sql`).
"""

from collections.abc import Sequence
from datetime import datetime

from notify.adapters.postgres.cursors import CHANNELS, decode_cursor, encode_cursor
from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.messages import wake_runs_sql
from notify.channels import Channel
from notify.feedback import (
    MAX_ADDRESS,
    DeliveryCounts,
    Feedback,
    Suppression,
    SuppressionPage,
    SuppressionView,
    normal_address,
)

# The status, reason and error a kind of feedback gives a notification, and its rank.
_OUTCOMES_SQL = """
(VALUES ('delivered', 'delivered', 1), ('bounced', 'bounced', 2), ('rejected', 'failed', 2),
        ('complained', 'complained', 3)) AS outcome (kind, status, rank)
"""
_RANK_OF_STATUS_SQL = """
CASE {status} WHEN 'sent' THEN 0 WHEN 'unconfirmed' THEN 0 WHEN 'delivered' THEN 1
              WHEN 'bounced' THEN 2 WHEN 'complained' THEN 3 ELSE NULL END
"""


def _address_key(text: str) -> None:
    if not 0 < len(text) <= MAX_ADDRESS:
        raise ValueError("not an address")


def feedback_status_sql(message_id: str) -> str:
    """A subquery: the strongest stored feedback for `message_id` (an SQL expression) as
    (status, reason, diagnostic, rank), none when there is no feedback for it."""
    return f"""
    SELECT outcome.status,
           CASE f.kind WHEN 'rejected' THEN 'provider_rejected' ELSE f.reason END AS reason,
           f.diagnostic, outcome.rank
    FROM delivery_feedback f JOIN {_OUTCOMES_SQL} USING (kind)
    WHERE f.provider_message_id = {message_id}
    ORDER BY outcome.rank DESC, f.received_at
    LIMIT 1
    """


_STORE_FEEDBACK_SQL = """
INSERT INTO delivery_feedback
    (provider_message_id, kind, address, reason, diagnostic, occurred_at, received_at)
SELECT * FROM unnest(%(ids)s::text[], %(kinds)s::text[], %(addresses)s::text[], %(reasons)s::text[],
                     %(diagnostics)s::text[], %(occurred)s::timestamptz[], %(received)s::timestamptz[])
ON CONFLICT DO NOTHING
"""

# A workflow run waiting on what became of a send (a bounce, a delivery) is woken by it.
_APPLY_FEEDBACK_SQL = f"""
WITH applied AS (
    UPDATE notifications n
    SET status = best.status, reason = best.reason, error = coalesce(best.diagnostic, n.error)
    FROM (SELECT DISTINCT unnest(%(ids)s::text[]) AS provider_message_id) ids
    CROSS JOIN LATERAL ({feedback_status_sql("ids.provider_message_id")}) best
    WHERE n.provider_message_id = ids.provider_message_id
      AND {_RANK_OF_STATUS_SQL.format(status="n.status")} < best.rank
    RETURNING n.event_id, n.user_id, n.step
),
woken AS ({wake_runs_sql("applied")})
SELECT count(*) FROM applied
"""


# GET /stats: the rows handed to the provider in the window (by sent_at) by their status now, and
# those skipped as suppressed in it (by screened_at); each read through its own partial index.
_DELIVERY_COUNTS_SQL = """
SELECT n.channel, e.event_type,
       count(*) FILTER (WHERE n.status IN ('sent', 'unconfirmed')),
       count(*) FILTER (WHERE n.status = 'delivered'),
       count(*) FILTER (WHERE n.status = 'bounced'),
       count(*) FILTER (WHERE n.status = 'complained'),
       count(*) FILTER (WHERE n.status = 'skipped'),
       count(*) FILTER (WHERE n.opened),
       count(*) FILTER (WHERE n.clicked)
FROM (
    SELECT event_id, channel, status, opened_at IS NOT NULL AS opened, clicked_at IS NOT NULL AS clicked
    FROM notifications
    WHERE sent_at >= %(since)s AND sent_at <= %(until)s
      AND status IN ('sent', 'unconfirmed', 'delivered', 'bounced', 'complained')
    UNION ALL
    SELECT event_id, channel, status, false, false FROM notifications
    WHERE status = 'skipped' AND reason = 'suppressed'
      AND screened_at >= %(since)s AND screened_at <= %(until)s
) n
JOIN events e ON e.event_id = n.event_id
GROUP BY n.channel, e.event_type
ORDER BY n.channel, e.event_type
"""


class PostgresFeedback(Repository):
    """FeedbackStore, Suppressions and DeliveryStats."""

    def delivery_counts(self, since: datetime, until: datetime) -> list[DeliveryCounts]:
        with self._connection() as conn:
            rows = conn.execute(_DELIVERY_COUNTS_SQL, {"since": since, "until": until}).fetchall()
        return [DeliveryCounts(row[0], row[1], *(int(n) for n in row[2:])) for row in rows]

    def record_feedback(self, items: Sequence[Feedback], now: datetime) -> int:
        if not items:
            return 0
        with self._connection() as conn:
            conn.execute(
                _STORE_FEEDBACK_SQL,
                {
                    "ids": [f.provider_message_id for f in items],
                    "kinds": [str(f.kind) for f in items],
                    "addresses": [normal_address(Channel.EMAIL, f.address) for f in items],
                    "reasons": [f.reason for f in items],
                    "diagnostics": [f.diagnostic for f in items],
                    "occurred": [f.occurred_at for f in items],
                    "received": [now] * len(items),
                },
            )
            row = conn.execute(
                _APPLY_FEEDBACK_SQL,
                {"ids": sorted({f.provider_message_id for f in items}), "wake_runs": True},
            ).fetchone()
        return int(row[0]) if row else 0

    def soft_bounces_since(self, addresses: Sequence[str], since: datetime) -> dict[str, int]:
        if not addresses:
            return {}
        with self._connection() as conn:
            rows = conn.execute(
                """
                SELECT address, count(DISTINCT provider_message_id) FROM delivery_feedback
                WHERE reason = 'soft_bounce' AND address = ANY(%s::text[]) AND received_at > %s
                GROUP BY address
                """,
                ([normal_address(Channel.EMAIL, address) for address in addresses], since),
            ).fetchall()
        return {row[0]: int(row[1]) for row in rows}

    def suppress(self, entries: Sequence[Suppression]) -> int:
        if not entries:
            return 0
        with self._connection() as conn:
            added = conn.execute(
                """
                INSERT INTO suppressions (channel, address, reason, created_at)
                SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[])
                ON CONFLICT DO NOTHING
                """,
                (
                    [e.channel for e in entries],
                    [normal_address(e.channel, e.address) for e in entries],
                    [e.reason for e in entries],
                    [e.created_at for e in entries],
                ),
            ).rowcount
        return max(0, added)

    def find_suppression(self, channel: str, address: str) -> Suppression | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT channel, address, reason, created_at FROM suppressions"
                " WHERE channel = %s AND address = %s",
                (channel, normal_address(channel, address)),
            ).fetchone()
        return Suppression(*row) if row else None

    def remove_suppression(self, channel: str, address: str) -> bool:
        with self._connection() as conn:
            removed = conn.execute(
                "DELETE FROM suppressions WHERE channel = %s AND address = %s",
                (channel, normal_address(channel, address)),
            ).rowcount
        return removed > 0

    def suppressions_page(self, channel: str | None, limit: int, cursor: str | None) -> SuppressionPage:
        after = decode_cursor(cursor, CHANNELS, check=_address_key) if cursor else None
        with self._connection() as conn:
            rows = conn.execute(
                """
                SELECT channel, address, reason, created_at FROM suppressions
                WHERE (%(channel)s::text IS NULL OR channel = %(channel)s)
                  AND (%(after_channel)s::text IS NULL
                       OR (channel, address) > (%(after_channel)s, %(after_address)s))
                ORDER BY channel, address
                LIMIT %(limit)s
                """,
                {
                    "channel": channel,
                    "after_channel": after[0] if after else None,
                    "after_address": after[1] if after else None,
                    "limit": limit + 1,
                },
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        items = [SuppressionView(channel=r[0], address=r[1], reason=r[2], created_at=r[3]) for r in rows]
        return SuppressionPage(
            items=items, next_cursor=encode_cursor(rows[-1][0], rows[-1][1]) if more else None
        )
