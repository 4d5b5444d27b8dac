"""Rows whose wait is over: closed digests, ended quiet hours, abandoned sends, queued again."""

from collections.abc import Collection
from datetime import datetime, timedelta

from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.messages import store_messages_for_rows
from notify.delivery import ReleasedBatch

# Notifications waiting for a digest whose window has closed: per recipient, channel, event
# type and movie (as record_verdicts opened the windows), the latest stands for the group (it
# is queued with the group's size), the others are folded into it. Rows are locked so that
# overlapping ticks split the work.
_CLOSE_DIGESTS_SQL = """
WITH due AS MATERIALIZED (
    SELECT n.event_id, n.channel, n.user_id, n.step, e.created_dt, e.event_type,
           coalesce(e.content -> 0 ->> 'movie_id', '') AS movie  -- '' (not NULL) joins below
    FROM notifications n JOIN events e USING (event_id)
    WHERE n.status = 'held' AND n.deliver_after <= %(now)s
    ORDER BY n.deliver_after
    LIMIT %(limit)s
    FOR UPDATE OF n SKIP LOCKED
),
grouped AS (
    SELECT channel, user_id, event_type, movie, count(*) AS size,
           (array_agg(event_id ORDER BY created_dt DESC, event_id))[1] AS representative,
           (array_agg(step ORDER BY created_dt DESC, event_id))[1] AS representative_step
    FROM due GROUP BY channel, user_id, event_type, movie
),
folded AS (
    UPDATE notifications n
    SET status = 'digested', reason = 'digest', digested_into = g.representative, deliver_after = NULL
    FROM due d JOIN grouped g USING (channel, user_id, event_type, movie)
    WHERE n.event_id = d.event_id AND n.channel = d.channel AND n.user_id = d.user_id AND n.step = d.step
      AND (d.event_id, d.step) <> (g.representative, g.representative_step)
)
UPDATE notifications n
SET status = 'queued', reason = NULL, digest_count = g.size, deliver_after = NULL
FROM grouped g
WHERE n.event_id = g.representative AND n.channel = g.channel AND n.user_id = g.user_id
  AND n.step = g.representative_step
RETURNING n.event_id, n.channel, n.user_id, n.step
"""

# Deferred notifications (quiet hours) whose moment has come go back to the queue.
_RELEASE_DEFERRED_SQL = """
UPDATE notifications n SET status = 'queued', deliver_after = NULL
WHERE (n.event_id, n.channel, n.user_id, n.step) IN (
    SELECT event_id, channel, user_id, step FROM notifications
    WHERE status = 'deferred' AND deliver_after <= %(now)s
    ORDER BY deliver_after
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING n.event_id, n.channel, n.user_id, n.step
"""


# Rows left `sending` by an attempt that died (its lease ended a while ago) and whose message
# is gone: dead-lettered after its receives ran out, or acknowledged by a crashed handler. A
# live redelivery claims such rows first; the sweep is the net under it.
_ABANDONED_AFTER = timedelta(seconds=60)


# An abandoned send of a cancelled event is cancelled, not queued again (the cancel counted it in flight).
_CANCEL_ABANDONED_SQL = """
UPDATE notifications n
SET status = 'cancelled', reason = 'cancelled', claim_token = NULL, claimed_until = NULL
FROM events e
WHERE e.event_id = n.event_id AND e.status = 'cancelled'
  AND n.status = 'sending' AND n.claimed_until < %(before)s
"""

_REQUEUE_ABANDONED_SQL = """
UPDATE notifications n SET status = 'retrying', claim_token = NULL, claimed_until = NULL,
    error = 'abandoned by an attempt that did not finish; queued again'
WHERE (n.event_id, n.channel, n.user_id, n.step) IN (
    SELECT event_id, channel, user_id, step FROM notifications
    WHERE status = 'sending' AND claimed_until < %(before)s
    ORDER BY claimed_until
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING n.event_id, n.channel, n.user_id, n.step
"""


# Rows waiting in a queue for longer than its whole receive schedule (queued_at: migration 0002) have
# lost their message, dead-lettered while the database was down or lost. Within the attempt budget
# they are queued again; past it they fail as a dead-lettered message's rows do (a redrive of nothing).
_LOST_SQL = """
WITH lost AS MATERIALIZED (
    SELECT n.event_id, n.channel, n.user_id, n.step, n.attempts
    FROM notifications n JOIN events e USING (event_id)
    WHERE n.status IN ('queued', 'retrying') AND n.queued_at < %(before)s
      -- only where the row's queue holds nothing: in a backlog its message is still on its way
      AND (%(routes)s::text[] IS NULL OR n.channel || '-' || e.priority = ANY(%(routes)s::text[]))
    ORDER BY n.queued_at
    LIMIT %(limit)s
    FOR UPDATE OF n SKIP LOCKED
),
failed AS (
    UPDATE notifications n
    SET status = 'failed', reason = 'retries_exhausted',
        error = 'its message was lost after the last allowed attempt'
    FROM lost l
    WHERE (n.event_id, n.channel, n.user_id, n.step) = (l.event_id, l.channel, l.user_id, l.step)
      AND l.attempts >= %(budget)s
    RETURNING 1
),
requeued AS (
    UPDATE notifications n
    SET status = 'queued', queued_at = %(now)s, error = 'its message was lost; queued again'
    FROM lost l
    WHERE (n.event_id, n.channel, n.user_id, n.step) = (l.event_id, l.channel, l.user_id, l.step)
      AND l.attempts < %(budget)s
    RETURNING n.event_id, n.channel, n.user_id, n.step
)
SELECT event_id, channel, user_id, step, (SELECT count(*) FROM failed) FROM requeued
UNION ALL
SELECT NULL, NULL, NULL, NULL, (SELECT count(*) FROM failed) WHERE NOT EXISTS (SELECT 1 FROM requeued)
"""


class PostgresWaiting(Repository):
    """WaitingNotifications."""

    def prune_reservations(self, before: datetime) -> int:
        """Forget cap reservations older than every cap's window."""
        with self._connection() as conn:
            return conn.execute(
                "DELETE FROM frequency_reservations WHERE reserved_at < %s", (before,)
            ).rowcount

    def release_waiting(
        self, now: datetime, limit: int, queue_by_channel_priority: dict[str, str], chunk_size: int
    ) -> ReleasedBatch:
        """Close due digest windows, end due deferrals and take back abandoned sends: their
        notifications are queued again and their messages stored in the outbox, in one transaction."""
        with self._connection() as conn:
            conn.execute("SET LOCAL jit = off")
            released = conn.execute(_CLOSE_DIGESTS_SQL, {"now": now, "limit": limit}).fetchall()
            released += conn.execute(_RELEASE_DEFERRED_SQL, {"now": now, "limit": limit}).fetchall()
            conn.execute(_CANCEL_ABANDONED_SQL, {"before": now - _ABANDONED_AFTER})
            released += conn.execute(
                _REQUEUE_ABANDONED_SQL, {"before": now - _ABANDONED_AFTER, "limit": limit}
            ).fetchall()
            if not released:
                return ReleasedBatch(notifications=0)
            outbox = store_messages_for_rows(
                conn,
                released,
                queues=queue_by_channel_priority,
                chunk_size=chunk_size,
                max_bytes=self._max_message_bytes,
            )
        return ReleasedBatch(notifications=len(released), outbox=outbox)

    def oldest_queued_s(self, now: datetime) -> float | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT min(queued_at) FROM notifications WHERE status IN ('queued', 'retrying')"
            ).fetchone()
        oldest = row[0] if row else None
        return None if oldest is None else round(max(0.0, (now - oldest).total_seconds()), 1)

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
        params = {
            "before": queued_before,
            "now": now,
            "budget": attempt_budget,
            "limit": limit,
            "routes": None if routes is None else sorted(routes),
        }
        with self._connection() as conn:
            rows = conn.execute(_LOST_SQL, params).fetchall()
            failed = int(rows[0][4]) if rows else 0
            requeued = [
                (event_id, channel, user_id, step) for event_id, channel, user_id, step, _ in rows if event_id
            ]
            outbox = store_messages_for_rows(
                conn,
                requeued,
                queues=queue_by_channel_priority,
                chunk_size=chunk_size,
                max_bytes=self._max_message_bytes,
            )
        return ReleasedBatch(notifications=len(requeued), outbox=outbox, failed=failed)
