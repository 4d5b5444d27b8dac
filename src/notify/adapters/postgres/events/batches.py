"""Events stored set-wise: a batch's events to lists of users in one transaction of two statements,
whatever its size (POST /events/batch), and events found by their idempotency keys."""

from collections.abc import Sequence
from typing import Any

from psycopg.rows import dict_row

from notify.adapters.postgres.database import Repository, content_json
from notify.adapters.postgres.messages import CONTACT_SQL, outbox_messages_sql, recipient_fields_sql
from notify.events import FanOutView, NewEvent, StoredEvent
from notify.outbox import OutboundMessage

# The events whose key is new: inserted in key order, so that two batches sharing keys take their
# locks in one order (a batch and its concurrent replay wait for each other, never deadlock).
_INSERT_EVENTS_SQL = """
INSERT INTO events (event_id, event_type, workflow_version, runs, created_dt, priority, status, content,
                    idempotency_key, request_hash)
SELECT e.event_id, e.event_type, e.workflow_version, e.runs, e.created_dt, e.priority, 'queued', e.content,
       e.idempotency_key, e.request_hash
FROM unnest(%(event_ids)s::uuid[], %(event_types)s::text[], %(versions)s::int[], %(runs)s::bool[],
            %(created)s::timestamptz[], %(priorities)s::int[], %(contents)s::jsonb[], %(keys)s::text[],
            %(hashes)s::text[])
    AS e(event_id, event_type, workflow_version, runs, created_dt, priority, content, idempotency_key,
         request_hash)
ORDER BY e.idempotency_key
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING event_id
"""

# Every inserted event's rows (a run per known user for a workflow with runs), its messages in the
# outbox and its counts, as fan_out_sql makes them for one event: known users deduplicated, each
# channel's recipients chunked in user id order, the unknown ids in the order asked.
_FAN_OUT_EVENTS_SQL = f"""
WITH wanted AS (
    SELECT w.event_id, w.raw, w.n
    FROM unnest(%(wanted_events)s::uuid[], %(wanted_users)s::text[]) WITH ORDINALITY AS w(event_id, raw, n)
    WHERE w.event_id = ANY(%(kept)s::uuid[])
),
plan AS (
    SELECT p.event_id, p.channel, p.step, p.queue
    FROM unnest(%(plan_events)s::uuid[], %(plan_channels)s::text[], %(plan_steps)s::smallint[],
                %(plan_queues)s::text[]) AS p(event_id, channel, step, queue)
    WHERE p.event_id = ANY(%(kept)s::uuid[])
),
known AS MATERIALIZED (
    SELECT DISTINCT ON (w.event_id, u.user_id) w.event_id, u.user_id, u.first_name, u.last_name,
           u.birthday, u.locale, u.timezone, u.email, u.phone, u.push_token
    FROM wanted w JOIN directory_users u ON u.user_id = w.raw::uuid
    ORDER BY w.event_id, u.user_id
),
recipients AS MATERIALIZED (
    SELECT p.channel, p.step, gen_random_uuid() AS notification_id, u.event_id, p.queue,
           (row_number() OVER (PARTITION BY u.event_id, p.channel, p.step ORDER BY u.user_id) - 1)
               / %(chunk_size)s AS chunk,
           {recipient_fields_sql("p.channel")}
    FROM known u JOIN plan p USING (event_id)
    WHERE {CONTACT_SQL.format(channel="p.channel")} IS NOT NULL
),
inserted AS (
    INSERT INTO notifications (event_id, channel, user_id, step, notification_id)
    SELECT event_id, channel, user_id, step, notification_id FROM recipients
),
runs AS (
    INSERT INTO workflow_runs (event_id, user_id, wake_at)
    SELECT k.event_id, k.user_id, '-infinity'::timestamptz FROM known k
    WHERE k.event_id = ANY(%(with_runs)s::uuid[])
),
envelope AS (
    SELECT event_id, event_type, workflow_version, runs, created_dt, priority, content
    FROM events WHERE event_id = ANY(%(kept)s::uuid[])
),{outbox_messages_sql("recipients")},
known_counts AS (SELECT event_id, count(*) AS known FROM known GROUP BY event_id),
recipient_counts AS (
    SELECT event_id, count(DISTINCT user_id) AS recipients, count(*) AS notifications
    FROM recipients GROUP BY event_id
),
skipped AS (
    SELECT w.event_id, array_agg(w.raw ORDER BY w.n) AS skipped FROM wanted w
    WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = w.raw::uuid)
    GROUP BY w.event_id
),
counted AS (
    UPDATE events SET
        recipients = CASE WHEN e.runs THEN coalesce(kc.known, 0) ELSE coalesce(rc.recipients, 0) END,
        notifications = coalesce(rc.notifications, 0),
        skipped_users = coalesce(s.skipped, '{{}}'::text[])
    FROM envelope e
    LEFT JOIN known_counts kc USING (event_id)
    LEFT JOIN recipient_counts rc USING (event_id)
    LEFT JOIN skipped s USING (event_id)
    WHERE events.event_id = e.event_id
    RETURNING events.event_id, events.recipients, events.notifications, events.skipped_users
)
SELECT event_id, NULL::uuid, NULL::text, NULL::text, recipients, notifications, skipped_users FROM counted
UNION ALL
SELECT m.event_id, s.message_id, s.queue, s.body, NULL, NULL, NULL
FROM stored s JOIN message m USING (message_id)
"""

_FOUND_COLUMNS = """idempotency_key, event_id, status, recipients, notifications, skipped_users,
       schedule_id, next_run_at, request_hash, fan_out_done, fan_out_complete"""


class PostgresEventBatches(Repository):
    """EventStore's set-wise part."""

    def create_events(self, events: Sequence[NewEvent]) -> list[StoredEvent | None]:
        """Store events to lists of users, each with its rows and outbox messages, in one transaction;
        None for an event whose idempotency key was taken (it stored nothing)."""
        if not events:
            return []
        with self._connection() as conn:
            kept = {row[0] for row in conn.execute(_INSERT_EVENTS_SQL, _event_columns(events)).fetchall()}
            rows = conn.execute(
                _FAN_OUT_EVENTS_SQL,
                {
                    **_fan_out_columns([event for event in events if event.event_id in kept]),
                    "kept": list(kept),
                    "chunk_size": events[0].chunk_size,
                    "max_bytes": self._max_message_bytes,
                },
            ).fetchall()
        counts = {row[0]: row[4:] for row in rows if row[1] is None}
        messages: dict[Any, list[OutboundMessage]] = {}
        for event_id, message_id, queue, body, *_ in rows:
            if message_id is not None:
                messages.setdefault(event_id, []).append(OutboundMessage(message_id, queue, body.encode()))
        return [
            None
            if event.event_id not in kept
            else StoredEvent(
                event_id=event.event_id,
                status="queued",
                recipients=counts[event.event_id][0],
                notifications=counts[event.event_id][1],
                skipped_users=list(counts[event.event_id][2]),
                schedule_id=None,
                next_run_at=None,
                request_hash=event.request_hash,
                outbox=messages.get(event.event_id, []),
            )
            for event in events
        ]

    def find_by_idempotency_keys(self, keys: Sequence[str]) -> dict[str, StoredEvent]:
        if not keys:
            return {}
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT {_FOUND_COLUMNS} FROM events WHERE idempotency_key = ANY(%s::text[])", (list(keys),)
            ).fetchall()
        found = {}
        for row in rows:
            key, done, complete = (
                row.pop("idempotency_key"),
                row.pop("fan_out_done"),
                row.pop("fan_out_complete"),
            )
            fan_out = (
                None
                if complete is None
                else FanOutView(recipients=row["recipients"], done=done, complete=complete)
            )
            found[key] = StoredEvent(**row, fan_out=fan_out)
        return found

    def find_by_idempotency_key(self, key: str) -> StoredEvent | None:
        return self.find_by_idempotency_keys([key]).get(key)


def _event_columns(events: Sequence[NewEvent]) -> dict[str, list[Any]]:
    return {
        "event_ids": [event.event_id for event in events],
        "event_types": [str(event.event_type) for event in events],
        "versions": [event.workflow_version for event in events],
        "runs": [not event.channels for event in events],
        "created": [event.created_dt for event in events],
        "priorities": [event.priority for event in events],
        "contents": [content_json(event.content) for event in events],
        "keys": [event.idempotency_key for event in events],
        "hashes": [event.request_hash for event in events],
    }


def _fan_out_columns(events: Sequence[NewEvent]) -> dict[str, list[Any]]:
    """The users each event asks for, in order, and the channels it sends on at once (none: runs)."""
    sends = [
        (event, channel, event.step_by_channel.get(channel, 0))
        for event in events
        for channel in event.channels
    ]
    return {
        "wanted_events": [event.event_id for event in events for _ in event.user_ids],
        "wanted_users": [str(user_id) for event in events for user_id in event.user_ids],
        "plan_events": [event.event_id for event, _, _ in sends],
        "plan_channels": [str(channel) for _, channel, _ in sends],
        "plan_steps": [step for _, _, step in sends],
        "plan_queues": [event.queue_by_channel[channel] for event, channel, _ in sends],
        "with_runs": [event.event_id for event in events if not event.channels],
    }
