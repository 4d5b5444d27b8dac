"""The delivery ledger: claims per attempt, outcomes written only by the claim's holder."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.feedback.feedback import feedback_status_sql
from notify.adapters.postgres.messages import store_messages_for_rows, wake_runs_sql
from notify.channels import Channel
from notify.delivery import Outcome, Pending
from notify.outbox import OutboundMessage

# Rows another attempt may take: never tried, released for retry, a lease that ran out,
# or dead-lettered (a DLQ redrive is an operator asking for another try).
_CLAIMABLE = """(
    status IN ('queued', 'retrying')
    OR (status = 'sending' AND claimed_until < %(now)s)
    OR (status = 'failed' AND reason = 'retries_exhausted')
)"""

# Rows the asking attempt already holds: its claim committed, the answer was lost with the connection.
_OWN_CLAIM = "(status = 'sending' AND claim_token = %(token)s)"


# One attempt's outcomes in one statement; only rows that attempt still holds are written (a
# holder whose lease ran out cannot overwrite another's outcome). A failed send gives its
# frequency-cap slot back in the same statement.
_RECORD_OUTCOMES_SQL = (
    (
        """
WITH outcome AS (
    SELECT * FROM unnest(
        %(user_ids)s::uuid[], %(statuses)s::text[], %(ats)s::timestamptz[], %(reasons)s::text[],
        %(errors)s::text[], %(provider_ids)s::text[], %(retry_ats)s::timestamptz[]
    ) AS o (user_id, status, at, reason, error, provider_id, retry_at)
),
written AS (
    UPDATE notifications n
    SET status = coalesce(fb.status, o.status), reason = coalesce(fb.reason, o.reason),
        error = coalesce(fb.diagnostic, o.error),
        provider_message_id = coalesce(o.provider_id, n.provider_message_id),
        sent_at = CASE WHEN o.status IN ('sent', 'unconfirmed') THEN o.at ELSE n.sent_at END,
        -- deferred: the provider failed for now; the tick queues the row again from retry_at
        deliver_after = CASE WHEN o.status = 'deferred' THEN o.retry_at ELSE n.deliver_after END,
        claimed_until = NULL, claim_token = NULL
    FROM outcome o
    -- Feedback that arrived before this send was recorded (LocalStack publishes the delivery
    -- inside SendRawEmail): the send is recorded with what it already led to.
    LEFT JOIN LATERAL (
        SELECT * FROM ({feedback}) f WHERE o.status = 'sent' AND o.provider_id IS NOT NULL
    ) fb ON true
    WHERE n.event_id = %(event_id)s AND n.channel = %(channel)s AND n.step = %(step)s
      AND n.user_id = o.user_id AND n.claim_token = %(token)s AND n.status = 'sending'
    RETURNING n.event_id, n.user_id, n.step, n.status
),
woken AS ({wake}),
given_back AS (
    DELETE FROM frequency_reservations r
    USING written w
    WHERE w.status = 'failed' AND r.event_id = %(event_id)s AND r.channel = %(channel)s
      AND r.user_id = w.user_id
)
SELECT user_id FROM written
"""
    )
    .replace("{feedback}", feedback_status_sql("o.provider_id"))
    .replace("{wake}", wake_runs_sql("written"))
)


# What a hand-back carries: the rows this attempt holds, released, and those nobody has claimed (a
# message not started when the time ran out). The second SELECT sees the rows as they were before
# the UPDATE, so a row released here is not taken twice; rows another attempt holds, or final ones,
# are left alone.
# Of a cancelled event, what the attempt hands back is cancelled (the cancel counted it in flight).
_CANCEL_HANDED_BACK_SQL = """
UPDATE notifications n
SET status = 'cancelled', reason = 'cancelled', claimed_until = NULL, claim_token = NULL
FROM events e
WHERE e.event_id = n.event_id AND e.status = 'cancelled'
  AND n.event_id = %(event_id)s AND n.channel = %(channel)s AND n.step = %(step)s
  AND n.user_id = ANY(%(user_ids)s::uuid[]) AND n.claim_token = %(token)s AND n.status = 'sending'
"""

_HAND_BACK_SQL = """
WITH released AS (
    UPDATE notifications
    SET status = 'queued', claimed_until = NULL, claim_token = NULL
    WHERE event_id = %(event_id)s AND channel = %(channel)s AND step = %(step)s
      AND user_id = ANY(%(user_ids)s::uuid[]) AND claim_token = %(token)s AND status = 'sending'
    RETURNING event_id, channel, user_id, step
)
SELECT event_id, channel, user_id, step FROM released
UNION ALL
SELECT event_id, channel, user_id, step FROM notifications
WHERE event_id = %(event_id)s AND channel = %(channel)s AND step = %(step)s
  AND user_id = ANY(%(user_ids)s::uuid[]) AND status IN ('queued', 'retrying')
"""


class PostgresLedger(Repository):
    """DeliveryLedger."""

    def claim(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        *,
        token: uuid.UUID,
        now: datetime,
        until: datetime,
        step: int = 0,
    ) -> set[uuid.UUID]:
        # The thread's own connection, reconnected at once after a drop (the pool backs off for seconds,
        # longer than a queue's visibility timeout), like the outcome writes. Asked again with the same
        # token (a COMMIT that landed on a connection dropped before its answer), the claim gives back
        # the rows that token already holds, counting the attempt once.
        with self._writer_connection() as conn:
            rows = conn.execute(
                f"""
                UPDATE notifications
                SET status = 'sending', claimed_until = %(until)s, claim_token = %(token)s, reason = NULL,
                    attempts = attempts + CASE WHEN {_OWN_CLAIM} THEN 0 ELSE 1 END
                WHERE event_id = %(event_id)s AND channel = %(channel)s AND step = %(step)s
                  AND user_id = ANY(%(user_ids)s::uuid[]) AND ({_CLAIMABLE} OR {_OWN_CLAIM})
                RETURNING user_id
                """,
                {
                    "until": until,
                    "token": token,
                    "event_id": event_id,
                    "channel": str(channel),
                    "user_ids": list(user_ids),
                    "now": now,
                    "step": step,
                },
            ).fetchall()
        return {row[0] for row in rows}

    def record_outcomes(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        outcomes: Sequence[Outcome],
        step: int = 0,
        wake_runs: bool = False,
    ) -> set[uuid.UUID]:
        if not outcomes:
            return set()
        with self._writer_connection() as conn:
            rows = conn.execute(
                _RECORD_OUTCOMES_SQL,
                {
                    "event_id": event_id,
                    "channel": str(channel),
                    "step": step,
                    "wake_runs": wake_runs,
                    "token": token,
                    "user_ids": [o.user_id for o in outcomes],
                    "statuses": [o.status for o in outcomes],
                    "ats": [o.at for o in outcomes],
                    "reasons": [o.reason for o in outcomes],
                    "errors": [o.error[:1000] if o.error else None for o in outcomes],
                    "provider_ids": [o.provider_id for o in outcomes],
                    "retry_ats": [o.retry_at for o in outcomes],
                },
            ).fetchall()
        return {row[0] for row in rows}

    def hand_back(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        user_ids: Sequence[uuid.UUID],
        queues: Mapping[str, str],
        step: int = 0,
    ) -> list[OutboundMessage]:
        params = {
            "event_id": event_id,
            "channel": str(channel),
            "step": step,
            "user_ids": list(user_ids),
            "token": token,
        }
        with self._connection() as conn:
            conn.execute(_CANCEL_HANDED_BACK_SQL, params)
            carried = conn.execute(_HAND_BACK_SQL, params).fetchall()
            # The rows fit one message by count (they came from one); bytes may still cut it.
            return store_messages_for_rows(
                conn,
                carried,
                queues=queues,
                chunk_size=max(1, len(carried)),
                max_bytes=self._max_message_bytes,
            )

    def pending(
        self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID], step: int = 0
    ) -> Pending:
        with self._writer_connection() as conn:  # as the claim: a dropped connection is replaced at once
            row = conn.execute(
                """
                SELECT count(*) FILTER (WHERE status IN ('queued', 'retrying')),
                       count(*) FILTER (WHERE status = 'sending'),
                       max(claimed_until) FILTER (WHERE status = 'sending')
                FROM notifications
                WHERE event_id = %s AND channel = %s AND step = %s AND user_id = ANY(%s::uuid[])
                  AND status IN ('queued', 'retrying', 'sending')
                """,
                (event_id, str(channel), step, list(user_ids)),
            ).fetchone()
        assert row is not None
        return Pending(waiting=row[0], held_by_others=row[1], held_until=row[2])
