"""Events and their fan-out into notification rows and outbox messages; what the API reads of them."""

import json
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from notify.adapters.postgres.cursors import CHANNELS, decode_cursor, encode_cursor, user_step_key
from notify.adapters.postgres.database import (
    REQUESTED_IDS,
    content_json,
    joined_ids,
)
from notify.adapters.postgres.events.batches import PostgresEventBatches, event_of
from notify.adapters.postgres.messages import CONTACT_SQL, FAN_OUT_WORK_MEM, fan_out_sql
from notify.channels import Channel
from notify.errors import DuplicateIdempotencyKey
from notify.events import (
    DeferredEvent,
    EventView,
    FanOutView,
    NewEvent,
    NewSchedule,
    NotificationPage,
    NotificationView,
    StoredEvent,
)
from notify.outbox import OutboundMessage

_UNKNOWN_USERS_SQL = f"""
SELECT raw FROM {REQUESTED_IDS} WITH ORDINALITY AS r(raw, n)
WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = r.raw::uuid)
ORDER BY n
"""


def fan_out_view(status: str, recipients: int, done: int | None, complete: bool | None) -> FanOutView | None:
    """An event's progress: an audience's steps, or (a list of users, made at once) all done; none for a
    schedule's own event, which is never fanned out itself."""
    if status == "scheduled":
        return None
    if complete is None:
        return FanOutView(recipients=recipients, done=recipients, complete=True)
    return FanOutView(recipients=recipients, done=done or 0, complete=complete)


def sends_of(event: NewEvent) -> tuple[tuple[Channel, int], ...]:
    """The event's channels, each with its rows' step (0 when not given: the sends go out as one)."""
    return tuple((channel, event.step_by_channel.get(channel, 0)) for channel in event.channels)


class PostgresEvents(PostgresEventBatches):
    """EventStore."""

    def create_event(self, event: NewEvent) -> StoredEvent:
        if event.audience is not None:
            # the event alone, its fan-out to come in steps: its members are those of now (the cutoff)
            return self._create_one(event)
        with self._connection() as conn:
            self._insert_event(conn, event, status="queued", schedule_id=None)
            conn.execute("SELECT set_config('work_mem', %s, true)", (FAN_OUT_WORK_MEM,))
            rows = conn.execute(
                fan_out_sql(sends_of(event)),
                {
                    "user_ids": joined_ids(event.user_ids),
                    "requested": len(event.user_ids),
                    "event_id": event.event_id,
                    "chunk_size": event.chunk_size,
                    "max_bytes": self._max_message_bytes,
                    "queues": json.dumps({str(k): v for k, v in event.queue_by_channel.items()}),
                    "event_type": str(event.event_type),
                    "workflow_version": event.workflow_version,
                    "created_dt": event.created_dt,
                    "priority": event.priority,
                    "content": content_json(event.content),
                },
            ).fetchall()
        counts = next(row for row in rows if row[0] is None)
        return StoredEvent(
            event_id=event.event_id,
            status="queued",
            recipients=counts[3],
            notifications=counts[4],
            skipped_users=list(counts[5]),
            schedule_id=None,
            next_run_at=None,
            request_hash=event.request_hash,
            outbox=[OutboundMessage(row[0], row[1], row[2].encode()) for row in rows if row[0] is not None],
        )

    def create_scheduled_event(
        self, event: NewEvent, schedule: NewSchedule, recipients: int, skipped_users: list[str]
    ) -> StoredEvent:
        return self._create_one(DeferredEvent(event, schedule, recipients, skipped_users))

    def _create_one(self, item: NewEvent | DeferredEvent) -> StoredEvent:
        """One event stored as a batch's are (create_events); DuplicateIdempotencyKey if its key is taken."""
        [stored] = self.create_events([item])
        if stored is None:
            raise DuplicateIdempotencyKey(str(event_of(item).idempotency_key))
        return stored

    def _insert_event(
        self, conn: psycopg.Connection[Any], event: NewEvent, status: str, schedule_id: uuid.UUID | None
    ) -> None:
        try:
            conn.execute(
                """
                INSERT INTO events (event_id, event_type, workflow_version, runs, created_dt, priority,
                                    status, schedule_id, content, idempotency_key, request_hash)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
                """,
                (
                    event.event_id,
                    str(event.event_type),
                    event.workflow_version,
                    not event.channels,
                    event.created_dt,
                    event.priority,
                    status,
                    schedule_id,
                    content_json(event.content),
                    event.idempotency_key,
                    event.request_hash,
                ),
            )
        except pg_errors.UniqueViolation as error:
            raise DuplicateIdempotencyKey(str(event.idempotency_key)) from error

    def count_known_users(
        self, user_ids: Sequence[str], channels: Sequence[Channel]
    ) -> tuple[int, list[str]]:
        with self._connection() as conn:
            row = conn.execute(
                f"""
                SELECT count(*) FROM directory_users u
                WHERE u.user_id IN (SELECT raw::uuid FROM {REQUESTED_IDS} AS r(raw))
                  -- an event with runs (no channel at once) has a run per known user
                  AND (cardinality(%(channels)s::text[]) = 0
                       OR EXISTS (SELECT 1 FROM unnest(%(channels)s::text[]) AS c(channel)
                                  WHERE {CONTACT_SQL.format(channel="c.channel")} IS NOT NULL))
                """,
                {"user_ids": joined_ids(user_ids), "channels": [str(c) for c in channels]},
            ).fetchone()
            skipped = [r[0] for r in conn.execute(_UNKNOWN_USERS_SQL, {"user_ids": joined_ids(user_ids)})]
        assert row is not None
        return int(row[0]), skipped

    def event_view(self, event_id: uuid.UUID) -> EventView | None:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                """
                SELECT event_id, event_type, created_dt, priority, status, schedule_id,
                       recipients, notifications, skipped_users, audience, fan_out_done, fan_out_complete,
                       runs
                FROM events WHERE event_id = %s
                """,
                (event_id,),
            ).fetchone()
            if row is None:
                return None
            row["fan_out"] = fan_out_view(
                row["status"], row["recipients"], row.pop("fan_out_done"), row.pop("fan_out_complete")
            )
            counts = _status_counts(cur, event_id)
        if row.pop("runs"):  # its runs make its notifications as they go: they are its rows' count
            row["notifications"] = sum(counts.values())
        return EventView(**row, counts=counts)

    def notifications_page(
        self, event_id: uuid.UUID, status: str | None, limit: int, cursor: str | None
    ) -> NotificationPage | None:
        after = decode_cursor(cursor, CHANNELS, user_step_key) if cursor else None
        after_user, _, after_step = after[1].partition("/") if after else (None, "", None)
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            event = cur.execute(
                "SELECT event_type, coalesce(workflow_version, 1) AS version, runs FROM events"
                " WHERE event_id = %s",
                (event_id,),
            ).fetchone()
            if event is None:
                return None
            rows = cur.execute(
                """
                SELECT n.notification_id AS id, n.channel, n.user_id, n.step,
                       (SELECT CASE WHEN %(runs)s THEN v.definition -> 'steps' -> n.step ->> 'ref'
                               -- sends that went out as one (step 0): the ref of the send on the channel
                               ELSE (SELECT s ->> 'ref'
                                     FROM jsonb_array_elements(v.definition -> 'steps') AS s
                                     WHERE s ->> 'channel' = n.channel LIMIT 1) END
                        FROM workflow_versions v
                        WHERE v.key = %(event_type)s AND v.version = %(version)s) AS step_ref,
                       n.status, n.reason, n.attempts, n.sent_at, n.error, n.deliver_after, n.digested_into,
                       json_build_object('opened_at', n.opened_at, 'clicked_at', n.clicked_at,
                                         'read_at', n.read_at) AS engagement
                FROM notifications n
                WHERE n.event_id = %(event_id)s
                  AND (%(status)s::text IS NULL OR n.status = %(status)s)
                  AND (%(after_channel)s::text IS NULL
                       OR (n.channel, n.user_id, n.step)
                          > (%(after_channel)s, %(after_user)s::uuid, %(after_step)s::int))
                ORDER BY n.channel, n.user_id, n.step
                LIMIT %(limit)s
                """,
                {
                    "event_id": event_id,
                    "event_type": event["event_type"],
                    "version": event["version"],
                    "runs": event["runs"],
                    "status": status,
                    "after_channel": after[0] if after else None,
                    "after_user": after_user,
                    "after_step": after_step,
                    "limit": limit + 1,
                },
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows else None
        next_cursor = (
            encode_cursor(last["channel"], f"{last['user_id']}/{last['step']}") if more and last else None
        )
        return NotificationPage(items=[NotificationView(**row) for row in rows], next_cursor=next_cursor)


# Counts by status, recounted when older than this. Polling a large event would otherwise read all
# its rows on every request.
COUNTS_FRESH_FOR_S = 2.0

_CACHED_COUNTS_SQL = """
SELECT counts, counted_at > now() - make_interval(secs => %(fresh_s)s) AS fresh
FROM event_status_counts WHERE event_id = %(event_id)s
"""

_RECOUNT_SQL = """
WITH counted AS (
    SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) AS counts
    FROM (SELECT status, count(*) AS n FROM notifications WHERE event_id = %(event_id)s GROUP BY status) s
)
INSERT INTO event_status_counts (event_id, counts, counted_at)
SELECT %(event_id)s, counts, now() FROM counted
ON CONFLICT (event_id) DO UPDATE SET counts = excluded.counts, counted_at = excluded.counted_at
RETURNING counts
"""


def _status_counts(cur: psycopg.Cursor[Any], event_id: uuid.UUID) -> dict[str, int]:
    """The event's counts by status: the stored ones while fresh; else recounted by the one request
    that gets the event's advisory lock, while the others answer the stored ones (a first poll, with
    nothing stored yet, counts too)."""
    params = {"event_id": event_id, "fresh_s": COUNTS_FRESH_FOR_S}
    cached = cur.execute(_CACHED_COUNTS_SQL, params).fetchone()
    if cached is not None and cached["fresh"]:
        return dict(cached["counts"])
    locked = cur.execute(
        "SELECT pg_try_advisory_xact_lock(hashtextextended(%(key)s, 0)) AS locked",
        {"key": f"event-counts:{event_id}"},
    ).fetchone()
    if cached is not None and not (locked and locked["locked"]):
        return dict(cached["counts"])
    recounted = cur.execute(_RECOUNT_SQL, params).fetchone()
    return dict(recounted["counts"]) if recounted else {}
