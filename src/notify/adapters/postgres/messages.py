"""The queue message, built in SQL: the one place that writes its JSON, for the fan-out, the
tick's occurrences and rows queued again."""

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from notify.adapters.postgres.database import REQUESTED_IDS
from notify.channels import CONTACT_FIELD, Channel
from notify.outbox import OutboundMessage

CONTACT_SQL = (
    "CASE {channel} WHEN 'email' THEN u.email WHEN 'sms' THEN u.phone WHEN 'push' THEN u.push_token END"
)


# Memory for the fan-out's sorts and its chunk aggregation (hash operations get
# hash_mem_multiplier times this), so that a 100,000-user event stays off temporary files.
FAN_OUT_WORK_MEM = "64MB"


RECIPIENT_COLUMNS = (
    "notification_id",
    "user_id",
    "first_name",
    "last_name",
    "birthday_date",
    "email",
    "phone",
    "push_token",
    "locale",
    "timezone",
)


LONGEST_CHANNEL = max(Channel, key=len)


def recipient_fields_sql(channel: str) -> str:
    """A recipient's fields in a message (RECIPIENT_COLUMNS but its notification id) from the directory
    row `u`, with only the contact of `channel` (an SQL expression): the others are NULL."""
    contacts = ", ".join(
        f"CASE WHEN {channel} = '{name}' THEN u.{field} END AS {field}"
        for name, field in CONTACT_FIELD.items()
    )
    return (
        f"u.user_id, u.first_name, u.last_name, u.birthday AS birthday_date, {contacts}, u.locale, u.timezone"
    )


def message_body_sql(event: str, message_id: str, channel: str, step: str, users: str) -> str:
    """The queue message's JSON (NotificationMessage, schema_version 2) for `event`'s columns."""
    return f"""json_build_object(
        'schema_version', 2, 'message_id', {message_id}, 'event_id', {event}.event_id,
        'event_type', {event}.event_type, 'workflow_version', coalesce({event}.workflow_version, 1),
        'step', {step}, 'runs', {event}.runs, 'created_dt', {event}.created_dt, 'transport_type', {channel},
        'priority', {event}.priority,
        'payload', json_build_object('user', {users}, 'content', {event}.content))::text"""


def outbox_messages_sql(recipients: str, columns: Sequence[str] = RECIPIENT_COLUMNS) -> str:
    """CTEs that cut recipients into queue messages and store them in the outbox, for the three
    places that write messages (an event's fan-out, the tick's occurrences, released rows).

    Expects `recipients` (event_id, channel, step, queue, chunk, and `columns`: chunks numbered by count)
    and `envelope` (event_id, event_type, workflow_version, runs, created_dt, priority, content as json:
    the events the messages are for). Defines `chunk` (one row per count chunk, with its `size`) and `stored`
    (message_id, queue, body). A chunk whose message would exceed `max_bytes` (long push tokens,
    long names) is cut again by bytes: its recipients are numbered by a running sum of their JSON
    lengths, and each piece holds at most `room - widest - 2` bytes before its last recipient,
    so its array stays under `room`. Only oversized chunks pay for that.
    """
    fields = ", ".join(f"r.{column}" for column in columns)
    placeholder = message_body_sql(
        "e",
        "'00000000-0000-0000-0000-000000000000'::uuid",
        f"'{LONGEST_CHANNEL}'::text",
        "(-32768)::smallint",
        "'[]'::json",
    )
    length = "octet_length(x.u::text)"
    key = "c.event_id, c.channel, c.step, c.chunk"
    return f"""
chunk AS (
    SELECT r.event_id, r.channel, r.step, r.queue, r.chunk, json_agg(u) AS users, count(*) AS size
    FROM {recipients} r, LATERAL (SELECT {fields}) AS u
    GROUP BY r.event_id, r.channel, r.step, r.queue, r.chunk
),
room AS (  -- bytes a message of each event leaves for its recipients' array
    SELECT e.event_id, %(max_bytes)s - octet_length({placeholder}) + 2 AS room FROM envelope e
),
piece AS (
    SELECT c.event_id, c.channel, c.step, c.queue, c.users
    FROM chunk c JOIN room USING (event_id) WHERE octet_length(c.users::text) <= room.room
    UNION ALL
    SELECT event_id, channel, step, queue, json_agg(u ORDER BY n)
    FROM (
        SELECT c.event_id, c.channel, c.step, c.queue, c.chunk, x.u, x.n,
               (sum({length} + 4) OVER (PARTITION BY {key} ORDER BY x.n) - {length} - 4)
                   / greatest(room.room - max({length}) OVER (PARTITION BY {key}) - 2, 1) AS part
        FROM chunk c JOIN room USING (event_id), json_array_elements(c.users) WITH ORDINALITY AS x(u, n)
        WHERE octet_length(c.users::text) > room.room
    ) cut
    GROUP BY event_id, channel, step, queue, chunk, part
),
message AS (SELECT gen_random_uuid() AS message_id, p.* FROM piece p),
stored AS (
    INSERT INTO outbox (message_id, queue, body)
    SELECT m.message_id, m.queue, {message_body_sql("e", "m.message_id", "m.channel", "m.step", "m.users")}
    FROM message m JOIN envelope e USING (event_id)
    RETURNING message_id, queue, body
)"""


def recipients_of(channel: Channel | None, step: int = 0) -> str:
    """The known users with a contact on `channel`, numbered into chunks in id order, each with the id
    of the notification `step` makes for them."""
    contacts = ", ".join(
        f"k.{field}" if channel is not None and field == CONTACT_FIELD[channel] else f"NULL::text AS {field}"
        for field in CONTACT_FIELD.values()
    )
    name = f"'{channel}'" if channel else "NULL"
    return f"""SELECT {name}::text AS channel, {int(step)}::smallint AS step,
           gen_random_uuid() AS notification_id, %(event_id)s::uuid AS event_id,
           %(queues)s::jsonb ->> {name} AS queue,
           (row_number() OVER (ORDER BY k.user_id) - 1) / %(chunk_size)s AS chunk,
           k.user_id, k.first_name, k.last_name, k.birthday AS birthday_date, {contacts},
           k.locale, k.timezone
    FROM known k WHERE {f"k.{CONTACT_FIELD[channel]} IS NOT NULL" if channel else "false"}"""


def recipient_rows_sql(users_from: str, sends: tuple[tuple[Channel, int], ...]) -> str:
    """The CTEs `known` (the directory rows of the users `users_from` joins as `u`, in id order),
    `recipients` (those with a contact on each send's channel, chunked) and `inserted` (their
    notification rows). `sends`: (channel, the step that sends on it); none for an event whose workflow
    has runs: `inserted` makes a run per known user instead, due at once (the next tick takes its first
    steps, whatever its clock)."""
    # Built from module constants and integers only: channel names, steps, the directory's contact columns.
    branches = "\n    UNION ALL\n    ".join(
        recipients_of(channel, step) for channel, step in sends or ((None, 0),)
    )
    return f"""known AS MATERIALIZED (
    SELECT u.user_id, u.first_name, u.last_name, u.birthday, u.locale, u.timezone,
           u.email, u.phone, u.push_token
    {users_from}
    ORDER BY u.user_id
),
recipients AS MATERIALIZED (
    {branches}
),
inserted AS ({
        "INSERT INTO notifications (event_id, channel, user_id, step, notification_id)"
        " SELECT %(event_id)s, channel, user_id, step, notification_id FROM recipients"
        if sends
        else "INSERT INTO workflow_runs (event_id, user_id, wake_at)"
        " SELECT %(event_id)s, user_id, '-infinity'::timestamptz FROM known"
    }
)"""


@functools.cache
def fan_out_sql(sends: tuple[tuple[Channel, int], ...]) -> str:
    """One statement for a whole fan-out: notification rows, outbox messages, the event's counts.

    Known users are found once (a join the planner can hash, deduplicated by id) and kept in
    id order; each channel numbers its recipients in that order (its sort finds the input
    already sorted) and cuts them into chunks of `chunk_size`, as before: per channel, in
    user id order. The counts come from the chunks, not from a re-scan of the notifications,
    and the skipped users are looked up only when some requested id did not match a distinct
    known user. The first row carries the counts (message_id NULL); every other row is a message.
    """
    users_from = f"""FROM {REQUESTED_IDS} AS r(raw)
    JOIN directory_users u ON u.user_id = r.raw::uuid
    GROUP BY u.user_id"""
    channels = tuple(channel for channel, _ in sends)
    if not channels:  # a run per known user
        recipients = "(SELECT count(*) FROM known)"
    elif len(channels) == 1:  # one notification per recipient
        recipients = "(SELECT coalesce(sum(size), 0) FROM chunk)"
    else:
        reachable = " OR ".join(f"k.{CONTACT_FIELD[channel]} IS NOT NULL" for channel in channels) or "false"
        recipients = f"(SELECT count(*) FROM known k WHERE {reachable})"
    return f"""
WITH {recipient_rows_sql(users_from, sends)},
envelope AS (
    SELECT %(event_id)s::uuid AS event_id, %(event_type)s::text AS event_type,
           %(workflow_version)s::int AS workflow_version, false AS runs,
           %(created_dt)s::timestamptz AS created_dt, %(priority)s::int AS priority,
           %(content)s::json AS content
),{outbox_messages_sql("recipients")},
totals AS (
    SELECT (SELECT count(*) FROM known) AS known, {recipients} AS recipients,
           (SELECT coalesce(sum(size), 0) FROM chunk) AS notifications
),
counted AS (
    UPDATE events SET
        recipients = t.recipients,
        notifications = t.notifications,
        skipped_users = CASE WHEN t.known = %(requested)s THEN '{{}}'::text[] ELSE ARRAY(
            SELECT raw FROM {REQUESTED_IDS} WITH ORDINALITY AS r(raw, n)
            WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = r.raw::uuid)
            ORDER BY n) END
    FROM totals t
    WHERE event_id = %(event_id)s
    RETURNING events.recipients, events.notifications, events.skipped_users
)
SELECT NULL::uuid, NULL::text, NULL::text, recipients, notifications, skipped_users FROM counted
UNION ALL
SELECT message_id, queue, body, NULL, NULL, NULL FROM stored
"""


# Queue messages for notification rows that already exist (released from a deferral or a
# digest, or abandoned), enriched afresh from the directory, stored in the outbox.
MESSAGES_FOR_ROWS_SQL = f"""
WITH picked AS (
    SELECT * FROM unnest(%(event_ids)s::uuid[], %(channels)s::text[], %(user_ids)s::uuid[], %(steps)s::int[])
        AS p(event_id, channel, user_id, step)
),
recipient AS MATERIALIZED (
    SELECT p.event_id, p.channel, p.step,
           %(queues)s::jsonb ->> (p.channel || '-' || e.priority) AS queue,
           (row_number() OVER (PARTITION BY p.event_id, p.channel, p.step ORDER BY p.user_id) - 1)
               / %(chunk_size)s AS chunk,
           n.notification_id, {recipient_fields_sql("p.channel")}, n.digest_count
    FROM picked p
    JOIN events e ON e.event_id = p.event_id
    JOIN notifications n
        ON (n.event_id, n.channel, n.user_id, n.step) = (p.event_id, p.channel, p.user_id, p.step)
    JOIN directory_users u ON u.user_id = p.user_id
),
envelope AS (
    SELECT event_id, event_type, workflow_version, runs, created_dt, priority, content
    FROM events WHERE event_id IN (SELECT event_id FROM picked)
),{outbox_messages_sql("recipient", (*RECIPIENT_COLUMNS, "digest_count"))}
SELECT message_id, queue, body FROM stored
"""


def store_messages_for_rows(
    conn: psycopg.Connection[Any],
    rows: Sequence[tuple[Any, Any, Any, Any]],
    *,
    queues: Mapping[str, str],
    chunk_size: int,
    max_bytes: int,
) -> list[OutboundMessage]:
    """Build the messages for notification rows (event_id, channel, user_id, step) from what is stored now
    (the directory's contacts, the event's envelope), store them in the outbox on `conn`'s
    transaction, and return them. `queues` are the router's "<channel>-<priority>" routes."""
    if not rows:
        return []
    stored = conn.execute(
        MESSAGES_FOR_ROWS_SQL,
        {
            "event_ids": [row[0] for row in rows],
            "channels": [str(row[1]) for row in rows],
            "user_ids": [row[2] for row in rows],
            "steps": [row[3] for row in rows],
            "queues": Jsonb(dict(queues)),
            "chunk_size": chunk_size,
            "max_bytes": max_bytes,
        },
    ).fetchall()
    return [OutboundMessage(message_id, queue, body.encode()) for message_id, queue, body in stored]


def wake_runs_sql(rows: str, only: str = "true") -> str:
    """A CTE body that wakes the runs of `rows` (a CTE with event_id, user_id and step; those where
    `only` holds of `w`) whose notification just got an outcome they wait for, when %(wake_runs)s: the
    next tick takes them, whatever its clock, not at their wake-up time."""
    return f"""UPDATE workflow_runs r SET wake_at = '-infinity'
    FROM {rows} w
    WHERE %(wake_runs)s AND ({only}) AND r.event_id = w.event_id AND r.user_id = w.user_id
      AND r.state = 'waiting' AND r.waits_on = w.step"""
