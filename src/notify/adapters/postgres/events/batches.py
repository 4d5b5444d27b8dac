"""Events stored set-wise: a batch's events of every kind (to lists of users, to audiences, deferred) in
one transaction of at most three statements, whatever its size (POST /events/batch; POST /events'
audience and deferred events too), and events found by their idempotency keys."""

import json
from collections.abc import Sequence
from typing import Any

from psycopg.rows import dict_row

from notify.adapters.postgres.database import Repository, content_json
from notify.adapters.postgres.messages import CONTACT_SQL, outbox_messages_sql, recipient_fields_sql
from notify.events import DeferredEvent, FanOutView, NewEvent, StoredEvent
from notify.outbox import OutboundMessage

# The events whose key is new, of every kind: due now to a list of users (their rows made next), to an
# audience (its fan-out to come in steps, its members those of now), or deferred (their schedules
# made next). Inserted in key order, so that two batches sharing keys take their locks in one order
# (a batch and its concurrent replay wait for each other, never deadlock).
_INSERT_EVENTS_SQL = """
INSERT INTO events (event_id, event_type, workflow_version, runs, created_dt, priority, status, content,
                    idempotency_key, request_hash, audience, recipients, skipped_users, next_run_at,
                    fan_out_done, fan_out_cutoff, fan_out_complete)
SELECT e.event_id, e.event_type, e.workflow_version, e.runs, e.created_dt, e.priority, e.status, e.content,
       e.idempotency_key, e.request_hash, e.audience, e.recipients,
       ARRAY(SELECT jsonb_array_elements_text(e.skipped_users)), e.next_run_at,
       CASE WHEN e.stepped THEN 0 END, CASE WHEN e.stepped THEN now() END, CASE WHEN e.stepped THEN false END
FROM unnest(%(event_ids)s::uuid[], %(event_types)s::text[], %(versions)s::int[], %(runs)s::bool[],
            %(created)s::timestamptz[], %(priorities)s::int[], %(statuses)s::text[], %(contents)s::jsonb[],
            %(keys)s::text[], %(hashes)s::text[], %(audiences)s::text[], %(recipients)s::int[],
            %(skipped)s::jsonb[], %(next_runs)s::timestamptz[], %(stepped)s::bool[])
    AS e(event_id, event_type, workflow_version, runs, created_dt, priority, status, content, idempotency_key,
         request_hash, audience, recipients, skipped_users, next_run_at, stepped)
ORDER BY e.idempotency_key
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING event_id
"""

# The schedules of the deferred events inserted, each event pointed at its own.
_INSERT_SCHEDULES_SQL = """
WITH made AS (
    INSERT INTO schedules (schedule_id, event_type, priority, cron, timezone, start_dt, user_ids, content_ids,
                           next_run_at, audience)
    SELECT s.schedule_id, s.event_type, s.priority, s.cron, s.timezone, s.start_dt,
           ARRAY(SELECT jsonb_array_elements_text(s.user_ids)),
           ARRAY(SELECT jsonb_array_elements_text(s.content_ids))::uuid[], s.next_run_at, s.audience
    FROM unnest(%(event_ids)s::uuid[], %(schedule_ids)s::uuid[], %(event_types)s::text[],
                %(priorities)s::int[], %(crons)s::text[], %(timezones)s::text[], %(starts)s::timestamptz[],
                %(user_ids)s::jsonb[],
                %(content_ids)s::jsonb[], %(next_runs)s::timestamptz[], %(audiences)s::text[])
        AS s(event_id, schedule_id, event_type, priority, cron, timezone, start_dt, user_ids, content_ids,
             next_run_at, audience)
    WHERE s.event_id = ANY(%(kept)s::uuid[])
    RETURNING schedule_id
)
UPDATE events e SET schedule_id = s.schedule_id
FROM unnest(%(event_ids)s::uuid[], %(schedule_ids)s::uuid[]) AS s(event_id, schedule_id)
WHERE e.event_id = s.event_id AND s.schedule_id IN (SELECT schedule_id FROM made)
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


def event_of(item: NewEvent | DeferredEvent) -> NewEvent:
    return item.event if isinstance(item, DeferredEvent) else item


class PostgresEventBatches(Repository):
    """EventStore's set-wise part."""

    def create_events(self, events: Sequence[NewEvent | DeferredEvent]) -> list[StoredEvent | None]:
        if not events:
            return []
        new = [event_of(item) for item in events]
        deferred = [item for item in events if isinstance(item, DeferredEvent)]
        with self._connection() as conn:
            kept = {row[0] for row in conn.execute(_INSERT_EVENTS_SQL, _event_columns(events)).fetchall()}
            if any(item.event.event_id in kept for item in deferred):
                conn.execute(_INSERT_SCHEDULES_SQL, {**_schedule_columns(deferred), "kept": list(kept)})
            listed = [
                item
                for item in events
                if isinstance(item, NewEvent) and item.audience is None and item.event_id in kept
            ]
            rows = (
                conn.execute(
                    _FAN_OUT_EVENTS_SQL,
                    {
                        **_fan_out_columns(listed),
                        "kept": [event.event_id for event in listed],
                        "chunk_size": listed[0].chunk_size,
                        "max_bytes": self._max_message_bytes,
                    },
                ).fetchall()
                if listed
                else []
            )
        counts = {row[0]: row[4:] for row in rows if row[1] is None}
        messages: dict[Any, list[OutboundMessage]] = {}
        for event_id, message_id, queue, body, *_ in rows:
            if message_id is not None:
                messages.setdefault(event_id, []).append(OutboundMessage(message_id, queue, body.encode()))
        return [
            None if event.event_id not in kept else _stored(item, counts.get(event.event_id), messages)
            for item, event in zip(events, new, strict=True)
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


def _stored(
    item: NewEvent | DeferredEvent, counts: Any, messages: dict[Any, list[OutboundMessage]]
) -> StoredEvent:
    """What was stored of an event, as create_event and create_scheduled_event answer it."""
    if isinstance(item, DeferredEvent):
        return StoredEvent(
            event_id=item.event.event_id,
            status="scheduled",
            recipients=item.recipients,
            notifications=0,
            skipped_users=list(item.skipped_users),
            schedule_id=item.schedule.schedule_id,
            next_run_at=item.schedule.next_run_at,
            request_hash=item.event.request_hash,
        )
    if item.audience is not None:
        return StoredEvent(
            event_id=item.event_id,
            status="queued",
            recipients=item.audience_size,
            notifications=0,
            skipped_users=[],
            schedule_id=None,
            next_run_at=None,
            request_hash=item.request_hash,
            fan_out=FanOutView(recipients=item.audience_size, done=0, complete=False),
        )
    recipients, notifications, skipped = counts
    return StoredEvent(
        event_id=item.event_id,
        status="queued",
        recipients=recipients,
        notifications=notifications,
        skipped_users=list(skipped),
        schedule_id=None,
        next_run_at=None,
        request_hash=item.request_hash,
        outbox=messages.get(item.event_id, []),
    )


def _event_columns(items: Sequence[NewEvent | DeferredEvent]) -> dict[str, list[Any]]:
    events = [event_of(item) for item in items]
    deferred = [isinstance(item, DeferredEvent) for item in items]
    return {
        "event_ids": [event.event_id for event in events],
        "event_types": [str(event.event_type) for event in events],
        "versions": [event.workflow_version for event in events],
        "runs": [not event.channels for event in events],
        "created": [event.created_dt for event in events],
        "priorities": [event.priority for event in events],
        "statuses": ["scheduled" if later else "queued" for later in deferred],
        "contents": [content_json(event.content) for event in events],
        "keys": [event.idempotency_key for event in events],
        "hashes": [event.request_hash for event in events],
        # an audience: on the event when it is fanned out now, on its schedule's occurrences when deferred
        "audiences": [
            None if later else event.audience for event, later in zip(events, deferred, strict=True)
        ],
        "recipients": [
            item.recipients if isinstance(item, DeferredEvent) else item.audience_size if item.audience else 0
            for item in items
        ],
        "skipped": [
            json.dumps(item.skipped_users if isinstance(item, DeferredEvent) else []) for item in items
        ],
        "next_runs": [
            item.schedule.next_run_at if isinstance(item, DeferredEvent) else None for item in items
        ],
        "stepped": [
            event.audience is not None and not later for event, later in zip(events, deferred, strict=True)
        ],
    }


def _schedule_columns(deferred: Sequence[DeferredEvent]) -> dict[str, list[Any]]:
    schedules = [item.schedule for item in deferred]
    return {
        "event_ids": [item.event.event_id for item in deferred],
        "schedule_ids": [schedule.schedule_id for schedule in schedules],
        "event_types": [str(schedule.event_type) for schedule in schedules],
        "priorities": [schedule.priority for schedule in schedules],
        "crons": [schedule.cron for schedule in schedules],
        "timezones": [schedule.timezone for schedule in schedules],
        "starts": [schedule.start_dt for schedule in schedules],
        "user_ids": [json.dumps([str(user) for user in schedule.user_ids]) for schedule in schedules],
        "content_ids": [json.dumps([str(movie) for movie in schedule.content_ids]) for schedule in schedules],
        "next_runs": [schedule.next_run_at for schedule in schedules],
        "audiences": [schedule.audience for schedule in schedules],
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
