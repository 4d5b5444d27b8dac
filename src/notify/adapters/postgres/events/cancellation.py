"""Stopping events: the event row first (its lock waits for a fan-out step under way, and once it is
taken no step claims the event again), then, in a statement of its own that sees that step's rows,
every row no sender holds. Used by `POST /events/{id}/cancel` and by a cancelled schedule."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from notify.adapters.postgres.database import Repository
from notify.events import Cancellation

# What a sender does not hold: waiting rows, a row whose sender's lease ran out, one a redrive would
# claim again (failed on its last attempt).
_NOT_HELD_SQL = """(
    status IN ('queued', 'retrying', 'deferred', 'held')
    OR (status = 'sending' AND claimed_until < coalesce(%(now)s::timestamptz, now()))
    OR (status = 'failed' AND reason = 'retries_exhausted')
)"""
# Statuses of a row the provider was handed.
HANDED_TO_PROVIDER = ("sent", "unconfirmed", "delivered", "bounced", "complained")


def stop_events(
    conn: psycopg.Connection[Any], event_ids: Sequence[uuid.UUID], *, reason: str, now: datetime | None
) -> list[tuple[uuid.UUID, str, uuid.UUID | None]]:
    """Mark the events cancelled and stop their fan-outs, then cancel their rows no sender holds (a
    lease counts as run out at `now`, the database's clock when None). Returns (event id, status
    before, schedule id) of each event found."""
    stopped = conn.execute(
        """
        UPDATE events e SET status = 'cancelled',
               fan_out_complete = CASE WHEN e.fan_out_complete IS NULL THEN NULL ELSE true END
        FROM (SELECT event_id, status FROM events WHERE event_id = ANY(%(ids)s::uuid[]) FOR UPDATE) before
        WHERE e.event_id = before.event_id
        RETURNING e.event_id, before.status, e.schedule_id
        """,
        {"ids": list(event_ids)},
    ).fetchall()
    if stopped:
        conn.execute(
            f"""
            UPDATE notifications
            SET status = 'cancelled', reason = %(reason)s, claimed_until = NULL, claim_token = NULL,
                deliver_after = NULL
            WHERE event_id = ANY(%(ids)s::uuid[]) AND {_NOT_HELD_SQL}
            """,
            {"ids": [row[0] for row in stopped], "reason": reason, "now": now},
        )
        # Their runs take no further step (a batch advancing them holds the event's row: this waited
        # for it, and what it made was cancelled above).
        conn.execute(
            """
            UPDATE workflow_runs
            SET state = 'cancelled', wake_at = NULL, updated_at = now(),
                history = history || jsonb_build_array(jsonb_build_object(
                    'step', position, 'result', 'cancelled', 'reason', %(reason)s::text, 'at', now()))
            WHERE event_id = ANY(%(ids)s::uuid[]) AND state = 'waiting'
            """,
            {"ids": [row[0] for row in stopped], "reason": reason},
        )
    return [(row[0], row[1], row[2]) for row in stopped]


class PostgresCancellations(Repository):
    """EventCancellation."""

    def cancel_event(self, event_id: uuid.UUID, now: datetime) -> Cancellation | None:
        with self._connection() as conn:
            stopped = stop_events(conn, [event_id], reason="cancelled", now=now)
            if not stopped:
                return None
            [(_, before, schedule_id)] = stopped
            if before == "scheduled" and schedule_id is not None:
                # The event holds a schedule: no occurrence of it fires any more.
                conn.execute(
                    "UPDATE schedules SET state = 'cancelled', next_run_at = NULL, updated_at = now()"
                    " WHERE schedule_id = %s AND state IN ('active', 'paused')",
                    (schedule_id,),
                )
            row = conn.execute(
                """
                SELECT count(*) FILTER (WHERE status = 'cancelled'),
                       count(*) FILTER (WHERE status = ANY(%(handed)s)),
                       count(*) FILTER (WHERE status = 'sending')
                FROM notifications WHERE event_id = %(event_id)s
                """,
                {"event_id": event_id, "handed": list(HANDED_TO_PROVIDER)},
            ).fetchone()
        assert row is not None
        return Cancellation(cancelled=row[0], sent=row[1], in_flight=row[2])
