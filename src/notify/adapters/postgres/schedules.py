"""Schedules: the tick's due occurrences, fanned out set-wise, and the API's reads and changes."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from notify.adapters.postgres.cursors import decode_cursor, encode_cursor
from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.events.cancellation import stop_events
from notify.adapters.postgres.messages import CONTACT_SQL, outbox_messages_sql, recipient_fields_sql
from notify.events import EVERYONE
from notify.outbox import OutboundMessage
from notify.scheduling import DueSchedule, FiredBatch, Firing, LastRun, SchedulePage, ScheduleView

# The tick's fan-out: many occurrences (events of due schedules) at once, each enriched afresh
# from the directory. An occurrence already stored (its key is the schedule and due moment)
# is left out: a retried or overlapping tick never sends one twice. Each event is stored with
# its counts, so its row is written once. The last row carries the number of events stored
# (message_id NULL); every other row is a message.
# An occurrence of more than `inline_max` listed users, like an audience's, is stored with its
# fan-out to do (`stepwise`: fan_outs.py walks the schedule's list in steps, one transaction each).
_OCCURRENCES_SQL = f"""
WITH occurrence AS MATERIALIZED (
    SELECT o.*, (s.audience IS NOT NULL OR cardinality(s.user_ids) > %(inline_max)s) AS stepwise
    FROM unnest(%(event_ids)s::uuid[], %(schedule_ids)s::uuid[], %(due)s::timestamptz[],
                %(keys)s::text[], %(queues)s::jsonb[], %(versions)s::int[], %(steps)s::jsonb[])
        AS o(event_id, schedule_id, due_at, occurrence_key, queues, workflow_version, steps)
    JOIN schedules s USING (schedule_id)
),
recipient AS MATERIALIZED (
    SELECT o.event_id, c.channel, coalesce((o.steps ->> c.channel)::smallint, 0) AS step,
           gen_random_uuid() AS notification_id, o.queues ->> c.channel AS queue,
           (row_number() OVER (PARTITION BY o.event_id, c.channel ORDER BY u.user_id) - 1)
               / %(chunk_size)s AS chunk,
           {recipient_fields_sql("c.channel")}
    FROM occurrence o
    JOIN schedules s ON s.schedule_id = o.schedule_id AND NOT o.stepwise
    CROSS JOIN LATERAL (SELECT DISTINCT raw::uuid AS user_id FROM unnest(s.user_ids) AS raw) r
    JOIN directory_users u ON u.user_id = r.user_id
    CROSS JOIN LATERAL jsonb_object_keys(o.queues) AS c(channel)
    WHERE {CONTACT_SQL.format(channel="c.channel")} IS NOT NULL
),
-- An occurrence of a workflow with runs (it sends on nothing at once): a run per known user instead.
run_member AS MATERIALIZED (
    SELECT o.event_id, r.user_id
    FROM occurrence o
    JOIN schedules s ON s.schedule_id = o.schedule_id AND NOT o.stepwise AND o.queues = '{{}}'::jsonb
    CROSS JOIN LATERAL (SELECT DISTINCT raw::uuid AS user_id FROM unnest(s.user_ids) AS raw) r
    JOIN directory_users u ON u.user_id = r.user_id
),
counted AS (
    SELECT event_id, count(*) AS notifications, count(DISTINCT user_id) AS recipients
    FROM recipient GROUP BY event_id
    UNION ALL
    SELECT event_id, 0, count(*) FROM run_member GROUP BY event_id
),
new_event AS (
    INSERT INTO events (event_id, event_type, workflow_version, runs, created_dt, priority, status,
                        schedule_id, content, occurrence_key, recipients, notifications, skipped_users,
                        audience, fan_out_cutoff, fan_out_done, fan_out_complete)
    SELECT o.event_id, s.event_type, o.workflow_version, o.queues = '{{}}'::jsonb, o.due_at, s.priority,
           'queued', s.schedule_id,
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'movie_id', m.movie_id, 'title', m.title, 'season', m.season,
                        'episode', m.episode, 'release_date', m.release_date)
                        ORDER BY array_position(s.content_ids, m.movie_id))
                     FROM directory_movies m WHERE m.movie_id = ANY(s.content_ids)), '[]'::jsonb),
           o.occurrence_key,
           CASE WHEN s.audience = '{EVERYONE}' THEN (SELECT count(*) FROM directory_users)
                WHEN s.audience IS NOT NULL
                    THEN coalesce((SELECT t.subscribers FROM topics t WHERE t.topic = s.audience), 0)
                WHEN o.stepwise THEN (SELECT count(DISTINCT u.user_id) FROM unnest(s.user_ids) AS raw
                                      JOIN directory_users u ON u.user_id = raw::uuid)
                ELSE coalesce(k.recipients, 0) END,
           coalesce(k.notifications, 0),
           ARRAY(SELECT raw FROM unnest(s.user_ids) AS raw
                 WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = raw::uuid)),
           -- an audience's members (a large list's) are fanned out in steps by the tick (fan_outs.py)
           s.audience, CASE WHEN o.stepwise THEN now() END,
           CASE WHEN o.stepwise THEN 0 END, CASE WHEN o.stepwise THEN false END
    FROM occurrence o JOIN schedules s USING (schedule_id) LEFT JOIN counted k USING (event_id)
    ON CONFLICT (occurrence_key) DO NOTHING
    RETURNING event_id, event_type, workflow_version, runs, created_dt, priority, content
),
inserted AS (
    INSERT INTO notifications (event_id, channel, user_id, step, notification_id)
    SELECT r.event_id, r.channel, r.user_id, r.step, r.notification_id
    FROM recipient r JOIN new_event e USING (event_id)
),
runs_made AS (
    INSERT INTO workflow_runs (event_id, user_id, wake_at)
    SELECT m.event_id, m.user_id, '-infinity'::timestamptz FROM run_member m JOIN new_event e USING (event_id)
),
envelope AS (
    SELECT event_id, event_type, workflow_version, runs, created_dt, priority, content FROM new_event
),
fresh AS (SELECT * FROM recipient WHERE event_id IN (SELECT event_id FROM new_event)),
{outbox_messages_sql("fresh")}
SELECT message_id, queue, body FROM stored
UNION ALL
SELECT NULL, NULL, count(*)::text FROM new_event
"""


# The due schedules of one transaction: oldest first, while the users of those before stay under the
# budget (so the first is always taken). An audience counts 1 here: its members are fanned out in
# steps. A list over the budget is fanned out in steps too, but its firing still reads the whole list
# (its counts, its skipped ids): it counts as the whole budget, so that it goes with nothing after it.
_DUE_USERS = """CASE WHEN cardinality(user_ids) <= %(max_users)s THEN greatest(cardinality(user_ids), 1)
                  ELSE %(max_users)s END"""
_DUE_SQL = f"""
WITH candidate AS (
    SELECT schedule_id, next_run_at, {_DUE_USERS} AS users,
           sum({_DUE_USERS}) OVER (ORDER BY next_run_at, schedule_id) AS running
    FROM schedules
    WHERE state = 'active' AND next_run_at <= %(now)s
    ORDER BY next_run_at, schedule_id
    LIMIT %(limit)s
)
SELECT s.schedule_id, s.event_type, s.priority, s.cron, s.timezone, s.next_run_at, w.current_version
FROM schedules s JOIN candidate c USING (schedule_id)
LEFT JOIN workflows w ON w.key = s.event_type AND w.archived_at IS NULL
WHERE c.running - c.users < %(max_users)s AND s.state = 'active' AND s.next_run_at <= %(now)s
ORDER BY c.next_run_at, c.schedule_id
FOR UPDATE OF s SKIP LOCKED
"""

_SCHEDULE_COLUMNS = """
    s.schedule_id, s.event_type, s.priority, s.cron, s.timezone, s.start_dt, s.state, s.next_run_at,
    s.last_run_at, s.runs, s.skipped_runs, cardinality(s.user_ids) AS users, s.created_at, s.audience
"""

SCHEDULES = "schedule"  # the label of the listing's cursors


def occurrence_key(schedule_id: uuid.UUID, due_at: datetime) -> str:
    return f"{schedule_id}@{due_at.astimezone(UTC).isoformat()}"


class PostgresSchedules(Repository):
    """ScheduleStore."""

    def fire_due(
        self,
        now: datetime,
        limit: int,
        plan: Callable[[list[DueSchedule]], list[Firing]],
        chunk_size: int,
        max_users: int,
    ) -> FiredBatch:
        with self._connection() as conn:
            due = [
                DueSchedule(
                    schedule_id=row[0],
                    event_type=row[1],
                    priority=row[2],
                    cron=row[3],
                    timezone=row[4],
                    due_at=row[5],
                    workflow_version=row[6],
                )
                for row in conn.execute(_DUE_SQL, {"now": now, "limit": limit, "max_users": max_users})
            ]
            if not due:
                return FiredBatch(claimed=0, sent=0, skipped_late=0)
            firings = plan(due)
            sending = [firing for firing in firings if firing.send]
            messages: list[OutboundMessage] = []
            if sending:
                # The planner cannot see that each schedule has few users and channels: its row
                # estimates run into millions and JIT compilation would cost more than the work.
                conn.execute("SELECT set_config('jit', 'off', true)")
                rows = conn.execute(
                    _OCCURRENCES_SQL,
                    {
                        "event_ids": [f.event_id for f in sending],
                        "schedule_ids": [f.schedule_id for f in sending],
                        "due": [f.occurrence_at for f in sending],
                        "keys": [occurrence_key(f.schedule_id, f.occurrence_at) for f in sending],
                        "queues": [
                            Jsonb({str(channel): queue for channel, queue in f.queue_by_channel.items()})
                            for f in sending
                        ],
                        "versions": [f.workflow_version for f in sending],
                        # the sends of a workflow that sends at once are one step, 0 (its runs make the rest)
                        "steps": [Jsonb(dict.fromkeys(map(str, f.queue_by_channel), 0)) for f in sending],
                        "chunk_size": chunk_size,
                        "max_bytes": self._max_message_bytes,
                        "inline_max": max_users,
                    },
                ).fetchall()
                messages = [
                    OutboundMessage(row[0], row[1], row[2].encode()) for row in rows if row[0] is not None
                ]
                sent = next(int(row[2]) for row in rows if row[0] is None)
            else:
                sent = 0
            conn.execute(
                """
                UPDATE schedules s SET
                    next_run_at = f.next_run_at,
                    state = CASE WHEN f.next_run_at IS NULL THEN 'done' ELSE s.state END,
                    last_run_at = CASE WHEN f.send THEN f.occurrence_at ELSE s.last_run_at END,
                    runs = s.runs + f.send::int,
                    skipped_runs = s.skipped_runs + (NOT f.send)::int,
                    updated_at = %(now)s
                FROM unnest(%(ids)s::uuid[], %(next)s::timestamptz[], %(send)s::bool[], %(at)s::timestamptz[])
                    AS f(schedule_id, next_run_at, send, occurrence_at)
                WHERE s.schedule_id = f.schedule_id
                """,
                {
                    "now": now,
                    "ids": [f.schedule_id for f in firings],
                    "next": [f.next_run_at for f in firings],
                    "send": [f.send for f in firings],
                    "at": [f.occurrence_at for f in firings],
                },
            )
        return FiredBatch(
            claimed=len(due),
            sent=sent,
            skipped_late=sum(1 for f in firings if not f.send),
            outbox=messages,
        )

    def list_schedules(
        self, event_type: str | None, state: str | None, limit: int, cursor: str | None
    ) -> SchedulePage:
        after = decode_cursor(cursor, {SCHEDULES})[1] if cursor else None
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"""
                SELECT {_SCHEDULE_COLUMNS} FROM schedules s
                WHERE (%(event_type)s::text IS NULL OR s.event_type = %(event_type)s)
                  AND (%(state)s::text IS NULL OR s.state = %(state)s)
                  AND (%(after)s::uuid IS NULL OR s.schedule_id > %(after)s::uuid)
                ORDER BY s.schedule_id
                LIMIT %(limit)s
                """,
                {"event_type": event_type, "state": state, "after": after, "limit": limit + 1},
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(SCHEDULES, rows[-1]["schedule_id"]) if more else None
        return SchedulePage(items=[ScheduleView(**row) for row in rows], next_cursor=next_cursor)

    def get_schedule(self, schedule_id: uuid.UUID) -> ScheduleView | None:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                f"SELECT {_SCHEDULE_COLUMNS} FROM schedules s WHERE s.schedule_id = %s", (schedule_id,)
            ).fetchone()
            if row is None:
                return None
            last = cur.execute(
                """
                SELECT event_id, created_dt, recipients, notifications FROM events
                WHERE schedule_id = %s AND occurrence_key IS NOT NULL
                ORDER BY created_dt DESC LIMIT 1
                """,
                (schedule_id,),
            ).fetchone()
        return ScheduleView(**row, last_run=LastRun(**last) if last else None)

    def update_schedule(
        self,
        schedule_id: uuid.UUID,
        *,
        state: str,
        cron: str | None,
        timezone: str,
        next_run_at: datetime | None,
    ) -> bool:
        with self._connection() as conn:
            # A schedule cancelled or finished since it was read stays so.
            changed = conn.execute(
                """
                UPDATE schedules
                SET state = %s, cron = %s, timezone = %s, next_run_at = %s, updated_at = now()
                WHERE schedule_id = %s AND state IN ('active', 'paused')
                RETURNING schedule_id
                """,
                (state, cron, timezone, next_run_at, schedule_id),
            ).fetchone()
        return changed is not None

    def cancel_schedule(self, schedule_id: uuid.UUID) -> bool:
        with self._connection() as conn:
            # The row lock waits for a tick that holds this schedule, so its occurrence is caught too.
            found = conn.execute(
                """
                UPDATE schedules SET state = 'cancelled', next_run_at = NULL, updated_at = now()
                WHERE schedule_id = %s RETURNING schedule_id
                """,
                (schedule_id,),
            ).fetchone()
            if found is None:
                return False
            # An occurrence still being fanned out to an audience stops at its next step.
            in_progress = conn.execute(
                "SELECT event_id FROM events WHERE schedule_id = %s AND fan_out_complete = false",
                (schedule_id,),
            ).fetchall()
            stop_events(conn, [row[0] for row in in_progress], reason="schedule_cancelled", now=None)
            conn.execute(
                """
                UPDATE notifications n SET status = 'cancelled', reason = 'schedule_cancelled',
                       claimed_until = NULL
                FROM events e
                WHERE e.schedule_id = %s AND n.event_id = e.event_id
                  AND n.status IN ('queued', 'retrying', 'deferred', 'held')
                """,
                (schedule_id,),
            )
        return True
