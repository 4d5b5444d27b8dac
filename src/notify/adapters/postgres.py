"""PostgreSQL: events, notifications, the outbox, the directory and the delivery ledger.

All SQL of the service lives here. Fan-out work is done set-wise inside the database:
one statement turns an event's user ids into notification rows and ready-to-publish
messages, so a 100,000-user promotion costs a handful of round trips.
"""

import atexit
import base64
import binascii
import functools
import json
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from notify.channels import CONTACT_FIELD, Channel, EventType
from notify.controls import FrequencyCap, Verdict
from notify.errors import DuplicateIdempotencyKey, FieldProblem, InvalidInput, StorageUnavailable
from notify.models import (
    DirectoryMovie,
    DirectoryUser,
    EventView,
    LastRun,
    NotificationPage,
    NotificationView,
    PreferencesDocument,
    SchedulePage,
    ScheduleView,
)
from notify.ports import (
    DueSchedule,
    FiredBatch,
    Firing,
    NewEvent,
    NewSchedule,
    OutboundMessage,
    Outcome,
    Pending,
    Refused,
    ReleasedBatch,
    StoredEvent,
)

SCHEMA_SQL = files("notify.adapters").joinpath("schema.sql").read_text()

_CONTACT_SQL = (
    "CASE {channel} WHEN 'email' THEN u.email WHEN 'sms' THEN u.phone WHEN 'push' THEN u.push_token END"
)

# User ids travel as one comma-joined string split by the server: a 100,000-element list
# parameter costs psycopg far more to send than the statement takes to run. UUID text never
# contains a comma; _joined_ids checks that the split gives back the list.
_REQUESTED_IDS = "unnest(string_to_array(%(user_ids)s, ','))"

# Queue messages are written to fit this (SQS takes 262,144 bytes; room is left for the request).
DEFAULT_MAX_MESSAGE_BYTES = 240_000

# Memory for the fan-out's sorts and its chunk aggregation (hash operations get
# hash_mem_multiplier times this), so that a 100,000-user event stays off temporary files.
_FAN_OUT_WORK_MEM = "64MB"


_RECIPIENT_COLUMNS = (
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
_LONGEST_CHANNEL = max(Channel, key=len)


def _message_body_sql(event: str, message_id: str, channel: str, users: str) -> str:
    """The queue message's JSON (NotificationMessage, schema_version 1) for `event`'s columns."""
    return f"""json_build_object(
        'schema_version', 1, 'message_id', {message_id}, 'event_id', {event}.event_id,
        'event_type', {event}.event_type, 'created_dt', {event}.created_dt, 'transport_type', {channel},
        'priority', {event}.priority,
        'payload', json_build_object('user', {users}, 'content', {event}.content))::text"""


def _outbox_messages_sql(recipients: str, columns: Sequence[str] = _RECIPIENT_COLUMNS) -> str:
    """CTEs that cut recipients into queue messages and store them in the outbox, for the three
    places that write messages (an event's fan-out, the tick's occurrences, released rows).

    Expects `recipients` (event_id, channel, queue, chunk, and `columns`: chunks numbered by count)
    and `envelope` (event_id, event_type, created_dt, priority, content as json: the events the
    messages are for). Defines `chunk` (one row per count chunk, with its `size`) and `stored`
    (message_id, queue, body). A chunk whose message would exceed `max_bytes` (long push tokens,
    long names) is cut again by bytes: its recipients are numbered by a running sum of their JSON
    lengths, and each piece holds at most `room - widest - 2` bytes before its last recipient,
    so its array stays under `room`. Only oversized chunks pay for that.
    """
    fields = ", ".join(f"r.{column}" for column in columns)
    placeholder = _message_body_sql(
        "e", "'00000000-0000-0000-0000-000000000000'::uuid", f"'{_LONGEST_CHANNEL}'::text", "'[]'::json"
    )
    length = "octet_length(x.u::text)"
    key = "c.event_id, c.channel, c.chunk"
    return f"""
chunk AS (
    SELECT r.event_id, r.channel, r.queue, r.chunk, json_agg(u) AS users, count(*) AS size
    FROM {recipients} r, LATERAL (SELECT {fields}) AS u
    GROUP BY r.event_id, r.channel, r.queue, r.chunk
),
room AS (  -- bytes a message of each event leaves for its recipients' array
    SELECT e.event_id, %(max_bytes)s - octet_length({placeholder}) + 2 AS room FROM envelope e
),
piece AS (
    SELECT c.event_id, c.channel, c.queue, c.users
    FROM chunk c JOIN room USING (event_id) WHERE octet_length(c.users::text) <= room.room
    UNION ALL
    SELECT event_id, channel, queue, json_agg(u ORDER BY n)
    FROM (
        SELECT c.event_id, c.channel, c.queue, c.chunk, x.u, x.n,
               (sum({length} + 4) OVER (PARTITION BY {key} ORDER BY x.n) - {length} - 4)
                   / greatest(room.room - max({length}) OVER (PARTITION BY {key}) - 2, 1) AS part
        FROM chunk c JOIN room USING (event_id), json_array_elements(c.users) WITH ORDINALITY AS x(u, n)
        WHERE octet_length(c.users::text) > room.room
    ) cut
    GROUP BY event_id, channel, queue, chunk, part
),
message AS (SELECT gen_random_uuid() AS message_id, p.* FROM piece p),
stored AS (
    INSERT INTO outbox (message_id, queue, body)
    SELECT m.message_id, m.queue, {_message_body_sql("e", "m.message_id", "m.channel", "m.users")}
    FROM message m JOIN envelope e USING (event_id)
    RETURNING message_id, queue, body
)"""


def _recipients_of(channel: Channel | None) -> str:
    """The known users with a contact on `channel`, numbered into chunks in id order."""
    contacts = ", ".join(
        f"k.{field}" if channel is not None and field == CONTACT_FIELD[channel] else f"NULL::text AS {field}"
        for field in CONTACT_FIELD.values()
    )
    name = f"'{channel}'" if channel else "NULL"
    return f"""SELECT {name}::text AS channel,
           %(event_id)s::uuid AS event_id, %(queues)s::jsonb ->> {name} AS queue,
           (row_number() OVER (ORDER BY k.user_id) - 1) / %(chunk_size)s AS chunk,
           k.user_id, k.first_name, k.last_name, k.birthday AS birthday_date, {contacts},
           k.locale, k.timezone
    FROM known k WHERE {f"k.{CONTACT_FIELD[channel]} IS NOT NULL" if channel else "false"}"""


@functools.cache
def _fan_out_sql(channels: tuple[Channel, ...]) -> str:
    """One statement for a whole fan-out: notification rows, outbox messages, the event's counts.

    Known users are found once (a join the planner can hash, deduplicated by id) and kept in
    id order; each channel numbers its recipients in that order (its sort finds the input
    already sorted) and cuts them into chunks of `chunk_size`, as before: per channel, in
    user id order. The counts come from the chunks, not from a re-scan of the notifications,
    and the skipped users are looked up only when some requested id did not match a distinct
    known user. The first row carries the counts (message_id NULL); every other row is a message.
    """
    # Built from module constants only: channel names and the directory's contact columns.
    branches = "\n    UNION ALL\n    ".join(_recipients_of(channel) for channel in channels or (None,))
    if len(channels) == 1:  # one notification per recipient
        recipients = "(SELECT coalesce(sum(size), 0) FROM chunk)"
    else:
        reachable = " OR ".join(f"k.{CONTACT_FIELD[channel]} IS NOT NULL" for channel in channels) or "false"
        recipients = f"(SELECT count(*) FROM known k WHERE {reachable})"
    return f"""
WITH known AS MATERIALIZED (
    SELECT u.user_id, u.first_name, u.last_name, u.birthday, u.locale, u.timezone,
           u.email, u.phone, u.push_token
    FROM {_REQUESTED_IDS} AS r(raw)
    JOIN directory_users u ON u.user_id = r.raw::uuid
    GROUP BY u.user_id
    ORDER BY u.user_id
),
recipients AS MATERIALIZED (
    {branches}
),
inserted AS (
    INSERT INTO notifications (event_id, channel, user_id)
    SELECT %(event_id)s, channel, user_id FROM recipients
),
envelope AS (
    SELECT %(event_id)s::uuid AS event_id, %(event_type)s::text AS event_type,
           %(created_dt)s::timestamptz AS created_dt, %(priority)s::int AS priority,
           %(content)s::json AS content
),{_outbox_messages_sql("recipients")},
totals AS (
    SELECT (SELECT count(*) FROM known) AS known, {recipients} AS recipients,
           (SELECT coalesce(sum(size), 0) FROM chunk) AS notifications
),
counted AS (
    UPDATE events SET
        recipients = t.recipients,
        notifications = t.notifications,
        skipped_users = CASE WHEN t.known = %(requested)s THEN '{{}}'::text[] ELSE ARRAY(
            SELECT raw FROM {_REQUESTED_IDS} WITH ORDINALITY AS r(raw, n)
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


# The tick's fan-out: many occurrences (events of due schedules) at once, each enriched afresh
# from the directory. An occurrence already stored (its key is the schedule and due moment)
# is left out: a retried or overlapping tick never sends one twice. Each event is stored with
# its counts, so its row is written once. The last row carries the number of events stored
# (message_id NULL); every other row is a message.
_OCCURRENCES_SQL = f"""
WITH occurrence AS (
    SELECT * FROM unnest(%(event_ids)s::uuid[], %(schedule_ids)s::uuid[], %(due)s::timestamptz[],
                         %(keys)s::text[], %(queues)s::jsonb[])
        AS o(event_id, schedule_id, due_at, occurrence_key, queues)
),
recipient AS MATERIALIZED (
    SELECT o.event_id, c.channel, o.queues ->> c.channel AS queue,
           (row_number() OVER (PARTITION BY o.event_id, c.channel ORDER BY u.user_id) - 1)
               / %(chunk_size)s AS chunk,
           u.user_id, u.first_name, u.last_name, u.birthday AS birthday_date,
           CASE WHEN c.channel = 'email' THEN u.email END AS email,
           CASE WHEN c.channel = 'sms' THEN u.phone END AS phone,
           CASE WHEN c.channel = 'push' THEN u.push_token END AS push_token,
           u.locale, u.timezone
    FROM occurrence o
    JOIN schedules s USING (schedule_id)
    CROSS JOIN LATERAL (SELECT DISTINCT raw::uuid AS user_id FROM unnest(s.user_ids) AS raw) r
    JOIN directory_users u ON u.user_id = r.user_id
    CROSS JOIN LATERAL jsonb_object_keys(o.queues) AS c(channel)
    WHERE {_CONTACT_SQL.format(channel="c.channel")} IS NOT NULL
),
counted AS (
    SELECT event_id, count(*) AS notifications, count(DISTINCT user_id) AS recipients
    FROM recipient GROUP BY event_id
),
new_event AS (
    INSERT INTO events (event_id, event_type, created_dt, priority, status, schedule_id, content,
                        occurrence_key, recipients, notifications, skipped_users)
    SELECT o.event_id, s.event_type, o.due_at, s.priority, 'queued', s.schedule_id,
           coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'movie_id', m.movie_id, 'title', m.title, 'season', m.season,
                        'episode', m.episode, 'release_date', m.release_date)
                        ORDER BY array_position(s.content_ids, m.movie_id))
                     FROM directory_movies m WHERE m.movie_id = ANY(s.content_ids)), '[]'::jsonb),
           o.occurrence_key, coalesce(k.recipients, 0), coalesce(k.notifications, 0),
           ARRAY(SELECT raw FROM unnest(s.user_ids) AS raw
                 WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = raw::uuid))
    FROM occurrence o JOIN schedules s USING (schedule_id) LEFT JOIN counted k USING (event_id)
    ON CONFLICT (occurrence_key) DO NOTHING
    RETURNING event_id, event_type, created_dt, priority, content
),
inserted AS (
    INSERT INTO notifications (event_id, channel, user_id)
    SELECT r.event_id, r.channel, r.user_id FROM recipient r JOIN new_event e USING (event_id)
),
envelope AS (SELECT event_id, event_type, created_dt, priority, content FROM new_event),
fresh AS (SELECT * FROM recipient WHERE event_id IN (SELECT event_id FROM new_event)),
{_outbox_messages_sql("fresh")}
SELECT message_id, queue, body FROM stored
UNION ALL
SELECT NULL, NULL, count(*)::text FROM new_event
"""

_SCHEDULE_COLUMNS = """
    s.schedule_id, s.event_type, s.priority, s.cron, s.timezone, s.start_dt, s.state, s.next_run_at,
    s.last_run_at, s.runs, s.skipped_runs, cardinality(s.user_ids) AS users, s.created_at
"""

# Notifications waiting for a digest whose window has closed: per recipient, channel, event
# type and movie (as record_verdicts opened the windows), the latest stands for the group (it
# is queued with the group's size), the others are folded into it. Rows are locked so that
# overlapping ticks split the work.
_CLOSE_DIGESTS_SQL = """
WITH due AS MATERIALIZED (
    SELECT n.event_id, n.channel, n.user_id, e.created_dt, e.event_type,
           coalesce(e.content -> 0 ->> 'movie_id', '') AS movie  -- '' (not NULL) joins below
    FROM notifications n JOIN events e USING (event_id)
    WHERE n.status = 'held' AND n.deliver_after <= %(now)s
    ORDER BY n.deliver_after
    LIMIT %(limit)s
    FOR UPDATE OF n SKIP LOCKED
),
grouped AS (
    SELECT channel, user_id, event_type, movie, count(*) AS size,
           (array_agg(event_id ORDER BY created_dt DESC, event_id))[1] AS representative
    FROM due GROUP BY channel, user_id, event_type, movie
),
folded AS (
    UPDATE notifications n
    SET status = 'digested', reason = 'digest', digested_into = g.representative, deliver_after = NULL
    FROM due d JOIN grouped g USING (channel, user_id, event_type, movie)
    WHERE n.event_id = d.event_id AND n.channel = d.channel AND n.user_id = d.user_id
      AND d.event_id <> g.representative
)
UPDATE notifications n
SET status = 'queued', reason = NULL, digest_count = g.size, deliver_after = NULL
FROM grouped g
WHERE n.event_id = g.representative AND n.channel = g.channel AND n.user_id = g.user_id
RETURNING n.event_id, n.channel, n.user_id
"""

# Deferred notifications (quiet hours) whose moment has come go back to the queue.
_RELEASE_DEFERRED_SQL = """
UPDATE notifications n SET status = 'queued', deliver_after = NULL
WHERE (n.event_id, n.channel, n.user_id) IN (
    SELECT event_id, channel, user_id FROM notifications
    WHERE status = 'deferred' AND deliver_after <= %(now)s
    ORDER BY deliver_after
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING n.event_id, n.channel, n.user_id
"""

# Rows left `sending` by an attempt that died (its lease ended a while ago) and whose message
# is gone: dead-lettered after its receives ran out, or acknowledged by a crashed handler. A
# live redelivery claims such rows first; the sweep is the net under it.
_ABANDONED_AFTER = timedelta(seconds=60)
_REQUEUE_ABANDONED_SQL = """
UPDATE notifications n SET status = 'retrying', claim_token = NULL, claimed_until = NULL,
    error = 'abandoned by an attempt that did not finish; queued again'
WHERE (n.event_id, n.channel, n.user_id) IN (
    SELECT event_id, channel, user_id FROM notifications
    WHERE status = 'sending' AND claimed_until < %(before)s
    ORDER BY claimed_until
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
RETURNING n.event_id, n.channel, n.user_id
"""

# Queue messages for notification rows that already exist (released from a deferral or a
# digest, or abandoned), enriched afresh from the directory, stored in the outbox.
_MESSAGES_FOR_ROWS_SQL = f"""
WITH picked AS (
    SELECT * FROM unnest(%(event_ids)s::uuid[], %(channels)s::text[], %(user_ids)s::uuid[])
        AS p(event_id, channel, user_id)
),
recipient AS MATERIALIZED (
    SELECT p.event_id, p.channel,
           %(queues)s::jsonb ->> (p.channel || '-' || e.priority) AS queue,
           (row_number() OVER (PARTITION BY p.event_id, p.channel ORDER BY p.user_id) - 1)
               / %(chunk_size)s AS chunk,
           u.user_id, u.first_name, u.last_name, u.birthday AS birthday_date,
           CASE WHEN p.channel = 'email' THEN u.email END AS email,
           CASE WHEN p.channel = 'sms' THEN u.phone END AS phone,
           CASE WHEN p.channel = 'push' THEN u.push_token END AS push_token,
           u.locale, u.timezone, n.digest_count
    FROM picked p
    JOIN events e ON e.event_id = p.event_id
    JOIN notifications n ON (n.event_id, n.channel, n.user_id) = (p.event_id, p.channel, p.user_id)
    JOIN directory_users u ON u.user_id = p.user_id
),
envelope AS (
    SELECT event_id, event_type, created_dt, priority, content
    FROM events WHERE event_id IN (SELECT event_id FROM picked)
),{_outbox_messages_sql("recipient", (*_RECIPIENT_COLUMNS, "digest_count"))}
SELECT message_id, queue, body FROM stored
"""

# Outcomes other than "send", written for a whole message at once. A like held for a digest
# joins the window already open for the same recipient, channel and movie, if there is one.
_RECORD_VERDICTS_SQL = """
WITH verdict AS (
    SELECT * FROM unnest(%(user_ids)s::uuid[], %(statuses)s::text[], %(reasons)s::text[],
                         %(after)s::timestamptz[]) AS v(user_id, status, reason, deliver_after)
),
event AS (SELECT event_type, content -> 0 ->> 'movie_id' AS movie FROM events WHERE event_id = %(event_id)s)
UPDATE notifications n
SET status = v.status, reason = v.reason, claimed_until = NULL,
    deliver_after = CASE WHEN v.status = 'held' THEN coalesce((
        SELECT min(h.deliver_after) FROM notifications h JOIN events he ON he.event_id = h.event_id, event
        WHERE h.status = 'held' AND h.user_id = v.user_id AND h.channel = n.channel
          AND h.deliver_after > %(now)s AND he.event_type = event.event_type
          AND he.content -> 0 ->> 'movie_id' IS NOT DISTINCT FROM event.movie
    ), v.deliver_after) ELSE v.deliver_after END
FROM verdict v
WHERE n.event_id = %(event_id)s AND n.channel = %(channel)s AND n.user_id = v.user_id
  AND n.status = 'sending'
"""

# Frequency caps: per recipient a transaction-scoped lock first (taken in one order, so
# concurrent senders cannot deadlock), then, in a later statement whose snapshot sees every
# reservation committed before the lock was granted, count and reserve. Two senders cannot
# both slip under the cap.
_LOCK_CAP_COUNTERS_SQL = """
SELECT pg_advisory_xact_lock(
    hashtextextended(user_id::text || '/' || %(event_type)s || '/' || %(channel)s, 7264002))
FROM (SELECT DISTINCT unnest(%(user_ids)s::uuid[]) AS user_id ORDER BY 1) ids
"""

_RESERVE_SENDS_SQL = """
WITH ids AS (SELECT DISTINCT unnest(%(user_ids)s::uuid[]) AS user_id),
already AS (
    SELECT r.user_id FROM frequency_reservations r JOIN ids USING (user_id)
    WHERE r.event_id = %(event_id)s AND r.channel = %(channel)s
),
fresh AS (
    INSERT INTO frequency_reservations (user_id, event_type, channel, event_id, reserved_at)
    SELECT ids.user_id, %(event_type)s, %(channel)s, %(event_id)s, %(now)s
    FROM ids
    WHERE ids.user_id NOT IN (SELECT user_id FROM already)
      AND (SELECT count(*) FROM frequency_reservations r
           WHERE r.user_id = ids.user_id AND r.event_type = %(event_type)s AND r.channel = %(channel)s
             AND r.reserved_at > %(since)s) < %(limit)s
    RETURNING user_id
)
SELECT user_id FROM already UNION SELECT user_id FROM fresh
"""

_UNKNOWN_USERS_SQL = f"""
SELECT raw FROM {_REQUESTED_IDS} WITH ORDINALITY AS r(raw, n)
WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = r.raw::uuid)
ORDER BY n
"""


def _joined_ids(user_ids: Sequence[str]) -> str:
    """The ids as one comma-separated string, for `_REQUESTED_IDS`."""
    joined = ",".join(map(str, user_ids))
    if user_ids and (
        joined.count(",") != len(user_ids) - 1
        or ",," in joined
        or joined.startswith(",")
        or joined.endswith(",")
        or not joined
    ):
        raise ValueError("user ids must be UUID text: not empty, without commas")
    return joined


# Rows another attempt may take: never tried, released for retry, a lease that ran out,
# or dead-lettered (a DLQ redrive is an operator asking for another try).
_CLAIMABLE = """(
    status IN ('queued', 'retrying')
    OR (status = 'sending' AND claimed_until < %(now)s)
    OR (status = 'failed' AND reason = 'retries_exhausted')
)"""


# One attempt's outcomes in one statement; only rows that attempt still holds are written (a
# holder whose lease ran out cannot overwrite another's outcome). A failed send gives its
# frequency-cap slot back in the same statement.
_RECORD_OUTCOMES_SQL = """
WITH outcome AS (
    SELECT * FROM unnest(
        %(user_ids)s::uuid[], %(statuses)s::text[], %(ats)s::timestamptz[], %(reasons)s::text[],
        %(errors)s::text[], %(provider_ids)s::text[]
    ) AS o (user_id, status, at, reason, error, provider_id)
),
written AS (
    UPDATE notifications n
    SET status = o.status, reason = o.reason, error = o.error,
        provider_message_id = coalesce(o.provider_id, n.provider_message_id),
        sent_at = CASE WHEN o.status IN ('sent', 'unconfirmed') THEN o.at ELSE n.sent_at END,
        claimed_until = NULL, claim_token = NULL
    FROM outcome o
    WHERE n.event_id = %(event_id)s AND n.channel = %(channel)s AND n.user_id = o.user_id
      AND n.claim_token = %(token)s AND n.status = 'sending'
    RETURNING n.user_id, n.status
),
given_back AS (
    DELETE FROM frequency_reservations r
    USING written w
    WHERE w.status = 'failed' AND r.event_id = %(event_id)s AND r.channel = %(channel)s
      AND r.user_id = w.user_id
)
SELECT user_id FROM written
"""


# A connection that sat idle may have been closed by the server or a proxy: it is checked
# before it is lent out. One in steady use is not (that would cost a round trip per
# statement): if it died meanwhile, the statement fails at once and the caller's retry gets
# a new connection, instead of the pool backing off for seconds between checks.
_IDLE_BEFORE_CHECK_S = 5.0
_returned_at: "weakref.WeakKeyDictionary[psycopg.Connection[Any], float]" = weakref.WeakKeyDictionary()


def _note_returned(conn: psycopg.Connection[Any]) -> None:
    _returned_at[conn] = time.monotonic()


def _check_if_idle(conn: psycopg.Connection[Any]) -> None:
    if time.monotonic() - _returned_at.get(conn, 0.0) > _IDLE_BEFORE_CHECK_S:
        ConnectionPool.check_connection(conn)


class _WriterConnections:
    """One connection per thread, outside the pool, for writes that must land while the
    database is failing: outcomes of sends the provider already accepted.

    The pool answers an outage with backoff between its reconnection attempts and a wait of
    seconds for a connection; an outcome write that waits that long outlives the invocation
    and its recipients are sent again. Here a failed write closes its connection and the
    caller's retry connects anew at once.
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._local = threading.local()
        self._opened: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and (conn.broken or conn.closed):
            conn = None
        if conn is not None and time.monotonic() - _returned_at.get(conn, 0.0) > _IDLE_BEFORE_CHECK_S:
            try:
                ConnectionPool.check_connection(conn)
            except psycopg.Error:
                conn.close()
                conn = None
        try:
            if conn is None:
                conn = self._local.conn = self._connect()
                self._opened.add(conn)
            with conn.transaction():
                yield conn
        except psycopg.OperationalError:
            if conn is not None:
                conn.close()
            self._local.conn = None
            raise
        finally:
            if conn is not None:
                _note_returned(conn)

    def close(self) -> None:
        for conn in list(self._opened):
            conn.close()


class PostgresStore:
    """Implements EventStore, Outbox, Directory, DeliveryLedger and HealthProbe."""

    def __init__(
        self,
        dsn: str,
        max_connections: int = 4,
        connect_timeout_s: float = 10.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self._dsn = dsn
        self._max_message_bytes = max_message_bytes
        self._max_connections = max_connections
        self._connect_timeout_s = connect_timeout_s
        self._pool: ConnectionPool | None = None
        self._writers = _WriterConnections(self._connect_directly)

    # ---- connections ---------------------------------------------------------------------------

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None or self._pool.closed:
            self._pool = ConnectionPool(
                self._dsn,
                min_size=1,
                max_size=self._max_connections,
                kwargs={"options": "-c timezone=UTC"},
                check=_check_if_idle,
                reset=_note_returned,
                open=True,
                timeout=self._connect_timeout_s,
            )
            atexit.register(self.close)
        return self._pool

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction; an outage becomes StorageUnavailable (retryable)."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as error:
            if isinstance(error, psycopg.OperationalError):
                # Connections die together (a server restart, a failover, terminated backends):
                # check the idle ones now, so that the caller's retry gets a live one.
                self._discard_dead_connections()
            raise StorageUnavailable(f"postgres: {type(error).__name__}") from error

    def _connect_directly(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self._dsn,
            autocommit=True,
            options="-c timezone=UTC",
            connect_timeout=max(2, int(self._connect_timeout_s)),
        )

    @contextmanager
    def _writer_connection(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's own connection in a transaction (see `_WriterConnections`)."""
        try:
            with self._writers.transaction() as conn:
                yield conn
        except psycopg.OperationalError as error:
            raise StorageUnavailable(f"postgres: {type(error).__name__}") from error

    def _discard_dead_connections(self) -> None:
        try:
            if self._pool is not None and not self._pool.closed:
                self._pool.check()
        except (psycopg.Error, PoolTimeout):
            return

    def close(self) -> None:
        self._writers.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def apply_schema(self) -> None:
        with self._connection() as conn:
            # Several processes may start at once; one applies the schema, the others wait.
            conn.execute("SELECT pg_advisory_xact_lock(7264001)")
            conn.execute(SCHEMA_SQL)

    def check(self) -> None:
        with self._connection() as conn:
            conn.execute("SELECT 1")

    # ---- events --------------------------------------------------------------------------------

    def create_event(self, event: NewEvent) -> StoredEvent:
        with self._connection() as conn:
            self._insert_event(conn, event, status="queued", schedule_id=None)
            conn.execute("SELECT set_config('work_mem', %s, true)", (_FAN_OUT_WORK_MEM,))
            rows = conn.execute(
                _fan_out_sql(tuple(event.channels)),
                {
                    "user_ids": _joined_ids(event.user_ids),
                    "requested": len(event.user_ids),
                    "event_id": event.event_id,
                    "chunk_size": event.chunk_size,
                    "max_bytes": self._max_message_bytes,
                    "queues": json.dumps({str(k): v for k, v in event.queue_by_channel.items()}),
                    "event_type": str(event.event_type),
                    "created_dt": event.created_dt,
                    "priority": event.priority,
                    "content": _content_json(event.content),
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
        with self._connection() as conn:
            conn.execute(
                """
                INSERT INTO schedules (schedule_id, event_type, priority, cron, timezone, start_dt,
                                       user_ids, content_ids, next_run_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s::uuid[], %s)
                """,
                (
                    schedule.schedule_id,
                    str(schedule.event_type),
                    schedule.priority,
                    schedule.cron,
                    schedule.timezone,
                    schedule.start_dt,
                    list(schedule.user_ids),
                    list(schedule.content_ids),
                    schedule.next_run_at,
                ),
            )
            self._insert_event(conn, event, status="scheduled", schedule_id=schedule.schedule_id)
            conn.execute(
                "UPDATE events SET recipients = %s, skipped_users = %s, next_run_at = %s WHERE event_id = %s",
                (recipients, skipped_users, schedule.next_run_at, event.event_id),
            )
        return StoredEvent(
            event_id=event.event_id,
            status="scheduled",
            recipients=recipients,
            notifications=0,
            skipped_users=skipped_users,
            schedule_id=schedule.schedule_id,
            next_run_at=schedule.next_run_at,
            request_hash=event.request_hash,
        )

    def _insert_event(
        self, conn: psycopg.Connection[Any], event: NewEvent, status: str, schedule_id: uuid.UUID | None
    ) -> None:
        try:
            conn.execute(
                """
                INSERT INTO events (event_id, event_type, created_dt, priority, status, schedule_id,
                                    content, idempotency_key, request_hash)
                VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
                """,
                (
                    event.event_id,
                    str(event.event_type),
                    event.created_dt,
                    event.priority,
                    status,
                    schedule_id,
                    _content_json(event.content),
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
                WHERE u.user_id IN (SELECT raw::uuid FROM {_REQUESTED_IDS} AS r(raw))
                  AND EXISTS (SELECT 1 FROM unnest(%(channels)s::text[]) AS c(channel)
                              WHERE {_CONTACT_SQL.format(channel="c.channel")} IS NOT NULL)
                """,
                {"user_ids": _joined_ids(user_ids), "channels": [str(c) for c in channels]},
            ).fetchone()
            skipped = [r[0] for r in conn.execute(_UNKNOWN_USERS_SQL, {"user_ids": _joined_ids(user_ids)})]
        assert row is not None
        return int(row[0]), skipped

    def find_by_idempotency_key(self, key: str) -> StoredEvent | None:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                """
                SELECT event_id, status, recipients, notifications, skipped_users,
                       schedule_id, next_run_at, request_hash
                FROM events WHERE idempotency_key = %s
                """,
                (key,),
            ).fetchone()
        return StoredEvent(**row) if row else None

    def event_view(self, event_id: uuid.UUID) -> EventView | None:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                """
                SELECT event_id, event_type, created_dt, priority, status, schedule_id,
                       recipients, notifications, skipped_users
                FROM events WHERE event_id = %s
                """,
                (event_id,),
            ).fetchone()
            if row is None:
                return None
            counts = cur.execute(
                "SELECT status, count(*) AS n FROM notifications WHERE event_id = %s GROUP BY status",
                (event_id,),
            ).fetchall()
        return EventView(**row, counts={c["status"]: c["n"] for c in counts})

    def notifications_page(
        self, event_id: uuid.UUID, status: str | None, limit: int, cursor: str | None
    ) -> NotificationPage | None:
        after = _decode_cursor(cursor) if cursor else None
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            if cur.execute("SELECT 1 FROM events WHERE event_id = %s", (event_id,)).fetchone() is None:
                return None
            rows = cur.execute(
                """
                SELECT channel, user_id, status, reason, attempts, sent_at, error, deliver_after,
                       digested_into
                FROM notifications
                WHERE event_id = %(event_id)s
                  AND (%(status)s::text IS NULL OR status = %(status)s)
                  AND (%(after_channel)s::text IS NULL
                       OR (channel, user_id) > (%(after_channel)s, %(after_user)s::uuid))
                ORDER BY channel, user_id
                LIMIT %(limit)s
                """,
                {
                    "event_id": event_id,
                    "status": status,
                    "after_channel": after[0] if after else None,
                    "after_user": after[1] if after else None,
                    "limit": limit + 1,
                },
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1]["channel"], rows[-1]["user_id"]) if more else None
        return NotificationPage(items=[NotificationView(**row) for row in rows], next_cursor=next_cursor)

    # ---- schedules -----------------------------------------------------------------------------

    def fire_due(
        self,
        now: datetime,
        limit: int,
        plan: Callable[[list[DueSchedule]], list[Firing]],
        chunk_size: int,
    ) -> FiredBatch:
        with self._connection() as conn:
            due = [
                DueSchedule(
                    schedule_id=row[0],
                    event_type=EventType(row[1]),
                    priority=row[2],
                    cron=row[3],
                    timezone=row[4],
                    due_at=row[5],
                )
                for row in conn.execute(
                    """
                    SELECT schedule_id, event_type, priority, cron, timezone, next_run_at
                    FROM schedules
                    WHERE state = 'active' AND next_run_at <= %s
                    ORDER BY next_run_at
                    LIMIT %s
                    FOR UPDATE SKIP LOCKED
                    """,
                    (now, limit),
                )
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
                        "chunk_size": chunk_size,
                        "max_bytes": self._max_message_bytes,
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
        after = _decode_cursor(cursor)[1] if cursor else None
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
        next_cursor = _encode_cursor("schedule", rows[-1]["schedule_id"]) if more else None
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

    # ---- outbox --------------------------------------------------------------------------------

    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                "UPDATE outbox SET published_at = %s, claimed_until = NULL WHERE message_id = ANY(%s)",
                (now, list(message_ids)),
            )

    def park(self, refused: Sequence[Refused], now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                """
                UPDATE outbox o SET parked_at = %s, error = r.error, claimed_until = NULL
                FROM unnest(%s::uuid[], %s::text[]) AS r(message_id, error)
                WHERE o.message_id = r.message_id AND o.published_at IS NULL
                """,
                (now, [r.message_id for r in refused], [r.error[:1000] for r in refused]),
            )

    def parked_count(self) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL").fetchone()
        assert row is not None
        return int(row[0])

    def claim_unpublished(
        self, now: datetime, older_than: datetime, limit: int, lease_s: int
    ) -> list[OutboundMessage]:
        with self._connection() as conn:
            rows = conn.execute(
                """
                UPDATE outbox SET claimed_until = %(until)s
                WHERE message_id IN (
                    SELECT message_id FROM outbox
                    WHERE published_at IS NULL AND parked_at IS NULL AND created_at < %(older_than)s
                      AND (claimed_until IS NULL OR claimed_until < %(now)s)
                    ORDER BY created_at
                    LIMIT %(limit)s
                    FOR UPDATE SKIP LOCKED)
                RETURNING message_id, queue, body
                """,
                {
                    "until": now + timedelta(seconds=lease_s),
                    "older_than": older_than,
                    "now": now,
                    "limit": limit,
                },
            ).fetchall()
        return [OutboundMessage(row[0], row[1], row[2].encode()) for row in rows]

    # ---- directory -----------------------------------------------------------------------------

    def upsert_users(self, users: Sequence[DirectoryUser]) -> int:
        latest = list({user.user_id: user for user in users}.values())
        with self._connection() as conn:
            conn.execute(
                """
                INSERT INTO directory_users (user_id, first_name, last_name, email, phone, push_token,
                                             birthday, locale, timezone)
                SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[],
                                     %s::text[], %s::date[], %s::text[], %s::text[])
                ON CONFLICT (user_id) DO UPDATE SET
                    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
                    email = EXCLUDED.email, phone = EXCLUDED.phone, push_token = EXCLUDED.push_token,
                    birthday = EXCLUDED.birthday, locale = EXCLUDED.locale, timezone = EXCLUDED.timezone,
                    updated_at = now()
                """,
                (
                    [u.user_id for u in latest],
                    [u.first_name for u in latest],
                    [u.last_name for u in latest],
                    [u.email for u in latest],
                    [u.phone for u in latest],
                    [u.push_token for u in latest],
                    [u.birthday for u in latest],
                    [u.locale for u in latest],
                    [u.timezone for u in latest],
                ),
            )
        return len(users)

    def upsert_movies(self, movies: Sequence[DirectoryMovie]) -> int:
        latest = list({movie.movie_id: movie for movie in movies}.values())
        with self._connection() as conn:
            conn.execute(
                """
                INSERT INTO directory_movies (movie_id, title, season, episode, release_date)
                SELECT * FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::int[], %s::date[])
                ON CONFLICT (movie_id) DO UPDATE SET
                    title = EXCLUDED.title, season = EXCLUDED.season, episode = EXCLUDED.episode,
                    release_date = EXCLUDED.release_date, updated_at = now()
                """,
                (
                    [m.movie_id for m in latest],
                    [m.title for m in latest],
                    [m.season for m in latest],
                    [m.episode for m in latest],
                    [m.release_date for m in latest],
                ),
            )
        return len(movies)

    def find_movies(self, movie_ids: Sequence[str]) -> list[DirectoryMovie]:
        if not movie_ids:
            return []
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                """
                SELECT movie_id, title, season, episode, release_date
                FROM directory_movies WHERE movie_id = ANY(%s::uuid[])
                ORDER BY array_position(%s::uuid[], movie_id)
                """,
                (list(movie_ids), list(movie_ids)),
            ).fetchall()
        return [DirectoryMovie(**row) for row in rows]

    # ---- recipient controls --------------------------------------------------------------------

    def get_preferences(self, user_id: uuid.UUID) -> PreferencesDocument | None:
        with self._connection() as conn:
            row = conn.execute(
                """
                SELECT p.document FROM directory_users u
                LEFT JOIN user_preferences p USING (user_id) WHERE u.user_id = %s
                """,
                (user_id,),
            ).fetchone()
        if row is None:
            return None
        return PreferencesDocument.model_validate(row[0]) if row[0] else PreferencesDocument()

    def put_preferences(self, user_id: uuid.UUID, document: PreferencesDocument) -> bool:
        with self._connection() as conn:
            stored = conn.execute(
                """
                INSERT INTO user_preferences (user_id, document, updated_at)
                SELECT user_id, %s, now() FROM directory_users WHERE user_id = %s
                ON CONFLICT (user_id) DO UPDATE SET document = EXCLUDED.document, updated_at = now()
                RETURNING user_id
                """,
                (Jsonb(document.model_dump(mode="json")), user_id),
            ).fetchone()
        return stored is not None

    def preferences_for(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PreferencesDocument]:
        """Stored documents of those users who have one (the others use the defaults)."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT user_id, document FROM user_preferences WHERE user_id = ANY(%s::uuid[])",
                (list(user_ids),),
            ).fetchall()
        return {row[0]: PreferencesDocument.model_validate(row[1]) for row in rows}

    def record_verdicts(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        verdicts: Sequence[tuple[uuid.UUID, Verdict]],
        now: datetime,
    ) -> None:
        if not verdicts:
            return
        with self._connection() as conn:
            conn.execute(
                _RECORD_VERDICTS_SQL,
                {
                    "event_id": event_id,
                    "channel": str(channel),
                    "now": now,
                    "user_ids": [user_id for user_id, _ in verdicts],
                    "statuses": [verdict.status for _, verdict in verdicts],
                    "reasons": [verdict.reason for _, verdict in verdicts],
                    "after": [verdict.deliver_after for _, verdict in verdicts],
                },
            )

    def reserve_sends(
        self,
        event_id: uuid.UUID,
        event_type: EventType,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        cap: FrequencyCap,
        now: datetime,
    ) -> set[uuid.UUID]:
        if not user_ids:
            return set()
        parameters = {
            "event_id": event_id,
            "event_type": str(event_type),
            "channel": str(channel),
            "user_ids": list(user_ids),
            "since": now - cap.window,
            "limit": cap.limit,
            "now": now,
        }
        with self._connection() as conn:
            conn.execute(_LOCK_CAP_COUNTERS_SQL, parameters)
            rows = conn.execute(_RESERVE_SENDS_SQL, parameters).fetchall()
        return {row[0] for row in rows}

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
            released += conn.execute(
                _REQUEUE_ABANDONED_SQL, {"before": now - _ABANDONED_AFTER, "limit": limit}
            ).fetchall()
            if not released:
                return ReleasedBatch(notifications=0)
            rows = conn.execute(
                _MESSAGES_FOR_ROWS_SQL,
                {
                    "event_ids": [row[0] for row in released],
                    "channels": [row[1] for row in released],
                    "user_ids": [row[2] for row in released],
                    "queues": Jsonb(queue_by_channel_priority),
                    "chunk_size": chunk_size,
                    "max_bytes": self._max_message_bytes,
                },
            ).fetchall()
        return ReleasedBatch(
            notifications=len(released),
            outbox=[OutboundMessage(row[0], row[1], row[2].encode()) for row in rows],
        )

    # ---- delivery ledger -----------------------------------------------------------------------

    def claim(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        *,
        token: uuid.UUID,
        now: datetime,
        until: datetime,
    ) -> set[uuid.UUID]:
        with self._connection() as conn:
            rows = conn.execute(
                f"""
                UPDATE notifications
                SET status = 'sending', attempts = attempts + 1, claimed_until = %(until)s,
                    claim_token = %(token)s, reason = NULL
                WHERE event_id = %(event_id)s AND channel = %(channel)s
                  AND user_id = ANY(%(user_ids)s::uuid[]) AND {_CLAIMABLE}
                RETURNING user_id
                """,
                {
                    "until": until,
                    "token": token,
                    "event_id": event_id,
                    "channel": str(channel),
                    "user_ids": list(user_ids),
                    "now": now,
                },
            ).fetchall()
        return {row[0] for row in rows}

    def record_outcomes(
        self, event_id: uuid.UUID, channel: Channel, token: uuid.UUID, outcomes: Sequence[Outcome]
    ) -> set[uuid.UUID]:
        if not outcomes:
            return set()
        with self._writer_connection() as conn:
            rows = conn.execute(
                _RECORD_OUTCOMES_SQL,
                {
                    "event_id": event_id,
                    "channel": str(channel),
                    "token": token,
                    "user_ids": [o.user_id for o in outcomes],
                    "statuses": [o.status for o in outcomes],
                    "ats": [o.at for o in outcomes],
                    "reasons": [o.reason for o in outcomes],
                    "errors": [o.error[:1000] if o.error else None for o in outcomes],
                    "provider_ids": [o.provider_id for o in outcomes],
                },
            ).fetchall()
        return {row[0] for row in rows}

    def hand_back(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        user_ids: Sequence[uuid.UUID],
        remainder: OutboundMessage,
    ) -> None:
        with self._connection() as conn:
            conn.execute(
                """
                UPDATE notifications
                SET status = 'queued', claimed_until = NULL, claim_token = NULL
                WHERE event_id = %s AND channel = %s AND user_id = ANY(%s::uuid[])
                  AND claim_token = %s AND status = 'sending'
                """,
                (event_id, str(channel), list(user_ids), token),
            )
            conn.execute(
                "INSERT INTO outbox (message_id, queue, body) VALUES (%s, %s, %s)",
                (remainder.message_id, remainder.queue, remainder.body.decode()),
            )

    def pending(self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID]) -> Pending:
        with self._connection() as conn:
            row = conn.execute(
                """
                SELECT count(*) FILTER (WHERE status IN ('queued', 'retrying')),
                       count(*) FILTER (WHERE status = 'sending'),
                       max(claimed_until) FILTER (WHERE status = 'sending')
                FROM notifications
                WHERE event_id = %s AND channel = %s AND user_id = ANY(%s::uuid[])
                  AND status IN ('queued', 'retrying', 'sending')
                """,
                (event_id, str(channel), list(user_ids)),
            ).fetchone()
        assert row is not None
        return Pending(waiting=row[0], held_by_others=row[1], held_until=row[2])


def _content_json(content: Sequence[DirectoryMovie]) -> str:
    return json.dumps([movie.model_dump(mode="json") for movie in content])


def occurrence_key(schedule_id: uuid.UUID, due_at: datetime) -> str:
    return f"{schedule_id}@{due_at.astimezone(UTC).isoformat()}"


def _encode_cursor(channel: str, user_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{channel}:{user_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        channel, user_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)
        uuid.UUID(user_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput(
            [FieldProblem(("query", "cursor"), "is not a cursor this API gave out")]
        ) from error
    return channel, user_id
