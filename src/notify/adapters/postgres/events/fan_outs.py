"""Stepwise fan-outs: the size of a topic, and one step of an event's fan-out, set-wise, by cursor.

An event fans out in steps when it has an audience (a topic, or everyone) or when it is the
occurrence of a schedule listing more users than one step takes (schedules.py)."""

import functools
import json
import uuid
from typing import Any

import psycopg

from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.messages import FAN_OUT_WORK_MEM, outbox_messages_sql, recipient_rows_sql
from notify.channels import Channel
from notify.events import EVERYONE, FanOutStep, Routes
from notify.outbox import OutboundMessage

NO_USER = uuid.UUID(int=0)  # the cursor before the first member (every uuid sorts after it)

# The members of an audience, in user id order after the cursor, who were members when the event was
# accepted (its cutoff): a subscription made later does not receive it.
_EVERYONE_SQL = """SELECT u.user_id FROM directory_users u
    WHERE u.user_id > %(after)s AND u.created_at <= %(cutoff)s ORDER BY u.user_id LIMIT %(members)s"""
_SUBSCRIBERS_SQL = """SELECT s.user_id FROM topic_subscribers s
    WHERE s.topic = %(audience)s AND s.user_id > %(after)s AND s.subscribed_at <= %(cutoff)s
    ORDER BY s.user_id LIMIT %(members)s"""
# A large schedule's listed ids (an occurrence's event has no audience of its own), walked whether
# known or not; those the directory gained after the firing (which named them skipped) are left out
# when joined (_KNOWN_AT_CUTOFF).
_LISTED_SQL = """SELECT DISTINCT raw::uuid AS user_id
    FROM events e JOIN schedules s USING (schedule_id) CROSS JOIN LATERAL unnest(s.user_ids) AS raw
    WHERE e.event_id = %(event_id)s AND raw::uuid > %(after)s ORDER BY 1 LIMIT %(members)s"""
_MEMBERS_SQL = {"everyone": _EVERYONE_SQL, "topic": _SUBSCRIBERS_SQL, "listed": _LISTED_SQL}
_KNOWN = "FROM walked w JOIN directory_users u USING (user_id)"
_KNOWN_AT_CUTOFF = f"{_KNOWN} WHERE u.created_at <= %(cutoff)s"


@functools.cache
def fan_out_step_sql(sends: tuple[tuple[Channel, int], ...], members: str) -> str:
    """One step: the next members' rows and messages, and the event's cursor, counts and completion.
    `members` names their source (_MEMBERS_SQL). The first row carries (done, complete) (message_id
    NULL); every other row is a message."""
    return f"""
WITH walked AS MATERIALIZED (
    {_MEMBERS_SQL[members]}
),
{recipient_rows_sql(_KNOWN_AT_CUTOFF if members == "listed" else _KNOWN, sends)},
envelope AS (
    SELECT event_id, event_type, workflow_version, runs, created_dt, priority, content
    FROM events WHERE event_id = %(event_id)s
),{outbox_messages_sql("recipients")},
progress AS (
    UPDATE events SET
        fan_out_after = coalesce((SELECT user_id FROM walked ORDER BY user_id DESC LIMIT 1), fan_out_after),
        -- the members made (as `recipients` counts them), not the ids walked: a listed id the
        -- directory lacks is walked, not done
        fan_out_done = fan_out_done + (SELECT count(*) FROM known),
        notifications = notifications + (SELECT coalesce(sum(size), 0) FROM chunk),
        fan_out_complete = (SELECT count(*) FROM walked) < %(members)s
    WHERE event_id = %(event_id)s
    RETURNING fan_out_done, fan_out_complete, (SELECT count(*) FROM walked) AS walked,
              (SELECT coalesce(sum(size), 0) FROM chunk) AS made
)
SELECT NULL::uuid, NULL::text, NULL::text, fan_out_done, fan_out_complete, walked, made FROM progress
UNION ALL
SELECT message_id, queue, body, NULL, NULL, NULL, NULL FROM stored
"""


class PostgresFanOuts(Repository):
    """AudienceSizes and FanOuts."""

    def audience_size(self, topic: str) -> int | None:
        with self._connection() as conn:
            return audience_size(conn, topic)

    def fan_out_step(
        self, event_id: uuid.UUID | None, *, members: int, routes: Routes, chunk_size: int
    ) -> FanOutStep | None:
        with self._connection() as conn:
            # The row lock is the claim: a concurrent stepper skips this event until the step commits.
            # The most urgent first (a promotion's audience must not hold up an episode's), then the oldest.
            event = conn.execute(
                """
                SELECT event_id, event_type, coalesce(workflow_version, 1), priority, audience, fan_out_after,
                       fan_out_cutoff FROM events
                WHERE fan_out_complete = false AND (%(event_id)s::uuid IS NULL OR event_id = %(event_id)s)
                ORDER BY priority DESC, received_at LIMIT 1
                FOR UPDATE SKIP LOCKED
                """,
                {"event_id": event_id},
            ).fetchone()
            if event is None:
                return None
            found_id, event_type, version, priority, audience, after, cutoff = event
            routed = routes(event_type, version, priority)
            queues = {channel: queue for channel, (queue, _) in routed.items()}
            conn.execute("SELECT set_config('work_mem', %s, true)", (FAN_OUT_WORK_MEM,))
            # The planner's estimates of a cursor's range are wild, and JIT would cost more than the step.
            conn.execute("SELECT set_config('jit', 'off', true)")
            rows = conn.execute(
                fan_out_step_sql(tuple((ch, step) for ch, (_, step) in routed.items()), _members(audience)),
                {
                    "event_id": found_id,
                    "audience": audience,
                    "after": after or NO_USER,
                    "cutoff": cutoff,
                    "members": members,
                    "chunk_size": chunk_size,
                    "max_bytes": self._max_message_bytes,
                    "queues": json.dumps({str(k): v for k, v in queues.items()}),
                },
            ).fetchall()
        progress = next(row for row in rows if row[0] is None)
        return FanOutStep(
            event_id=found_id,
            members=progress[5],
            notifications=progress[6],
            done=progress[3],
            complete=progress[4],
            outbox=[OutboundMessage(row[0], row[1], row[2].encode()) for row in rows if row[0] is not None],
        )


def _members(audience: str | None) -> str:
    if audience is None:
        return "listed"
    return "everyone" if audience == EVERYONE else "topic"


def audience_size(conn: psycopg.Connection[Any], topic: str) -> int | None:
    """Members of `topic` now, on `conn`: the directory for `all`, else the topic's kept count."""
    if topic == EVERYONE:
        row = conn.execute("SELECT count(*) FROM directory_users").fetchone()
    else:
        row = conn.execute("SELECT subscribers FROM topics WHERE topic = %s", (topic,)).fetchone()
    return None if row is None else int(row[0])
