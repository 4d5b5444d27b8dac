"""PostgreSQL: events, notifications, the outbox, the directory and the delivery ledger.

All SQL of the service lives here. Fan-out work is done set-wise inside the database:
one statement turns an event's user ids into notification rows and ready-to-publish
messages, so a 100,000-user promotion costs a handful of round trips.
"""

import atexit
import base64
import binascii
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from notify.channels import Channel
from notify.errors import DuplicateIdempotencyKey, FieldProblem, InvalidInput, StorageUnavailable
from notify.models import (
    DirectoryMovie,
    DirectoryUser,
    EventView,
    NotificationPage,
    NotificationView,
)
from notify.ports import NewEvent, NewSchedule, OutboundMessage, StoredEvent

SCHEMA_SQL = files("notify.adapters").joinpath("schema.sql").read_text()

_CONTACT_SQL = (
    "CASE {channel} WHEN 'email' THEN u.email WHEN 'sms' THEN u.phone WHEN 'push' THEN u.push_token END"
)

_FAN_OUT_SQL = f"""
WITH requested AS (
    SELECT DISTINCT raw::uuid AS user_id FROM unnest(%(user_ids)s::text[]) AS raw
),
recipients AS MATERIALIZED (
    SELECT c.channel, u.user_id, u.first_name, u.last_name, u.birthday, u.locale, u.timezone,
           {_CONTACT_SQL.format(channel="c.channel")} AS contact
    FROM requested r
    JOIN directory_users u USING (user_id)
    CROSS JOIN unnest(%(channels)s::text[]) AS c(channel)
    WHERE {_CONTACT_SQL.format(channel="c.channel")} IS NOT NULL
),
inserted AS (
    INSERT INTO notifications (event_id, channel, user_id)
    SELECT %(event_id)s, channel, user_id FROM recipients
),
chunks AS (
    SELECT channel, gen_random_uuid() AS message_id,
           json_agg(json_build_object(
               'user_id', user_id, 'first_name', first_name, 'last_name', last_name,
               'birthday_date', birthday,
               'email', CASE WHEN channel = 'email' THEN contact END,
               'phone', CASE WHEN channel = 'sms' THEN contact END,
               'push_token', CASE WHEN channel = 'push' THEN contact END,
               'locale', locale, 'timezone', timezone)) AS users
    FROM (
        SELECT *, (row_number() OVER (PARTITION BY channel ORDER BY user_id) - 1) / %(chunk_size)s AS chunk
        FROM recipients
    ) numbered
    GROUP BY channel, chunk
)
INSERT INTO outbox (message_id, queue, body)
SELECT message_id, %(queues)s::jsonb ->> channel,
       json_build_object(
           'schema_version', 1, 'message_id', message_id, 'event_id', %(event_id)s::uuid,
           'event_type', %(event_type)s::text, 'created_dt', %(created_dt)s::timestamptz,
           'transport_type', channel, 'priority', %(priority)s::int,
           'payload', json_build_object('user', users, 'content', %(content)s::json))::text
FROM chunks
RETURNING message_id, queue, body
"""

_UNKNOWN_USERS_SQL = """
SELECT raw FROM unnest(%(user_ids)s::text[]) WITH ORDINALITY AS r(raw, n)
WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = r.raw::uuid)
ORDER BY n
"""

# Rows another attempt may take: never tried, released for retry, a lease that ran out,
# or dead-lettered (a DLQ redrive is an operator asking for another try).
_CLAIMABLE = """(
    status IN ('queued', 'retrying')
    OR (status = 'sending' AND claimed_until < %(now)s)
    OR (status = 'failed' AND reason = 'retries_exhausted')
)"""


class PostgresStore:
    """Implements EventStore, Outbox, Directory, DeliveryLedger and HealthProbe."""

    def __init__(self, dsn: str, max_connections: int = 4) -> None:
        self._dsn = dsn
        self._max_connections = max_connections
        self._pool: ConnectionPool | None = None

    # ---- connections ---------------------------------------------------------------------------

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None or self._pool.closed:
            self._pool = ConnectionPool(
                self._dsn,
                min_size=1,
                max_size=self._max_connections,
                kwargs={"options": "-c timezone=UTC"},
                check=ConnectionPool.check_connection,
                open=True,
                timeout=10,
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
            raise StorageUnavailable(f"postgres: {type(error).__name__}") from error

    def close(self) -> None:
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
            rows = conn.execute(
                _FAN_OUT_SQL,
                {
                    "user_ids": list(event.user_ids),
                    "channels": [str(channel) for channel in event.channels],
                    "event_id": event.event_id,
                    "chunk_size": event.chunk_size,
                    "queues": json.dumps({str(k): v for k, v in event.queue_by_channel.items()}),
                    "event_type": str(event.event_type),
                    "created_dt": event.created_dt,
                    "priority": event.priority,
                    "content": _content_json(event.content),
                },
            ).fetchall()
            skipped = [row[0] for row in conn.execute(_UNKNOWN_USERS_SQL, {"user_ids": list(event.user_ids)})]
            counts = conn.execute(
                """
                UPDATE events SET
                    notifications = c.notifications, recipients = c.recipients, skipped_users = %(skipped)s
                FROM (SELECT count(*) AS notifications, count(DISTINCT user_id) AS recipients
                      FROM notifications WHERE event_id = %(event_id)s) c
                WHERE event_id = %(event_id)s
                RETURNING c.recipients, c.notifications
                """,
                {"event_id": event.event_id, "skipped": skipped},
            ).fetchone()
            assert counts is not None
        return StoredEvent(
            event_id=event.event_id,
            status="queued",
            recipients=counts[0],
            notifications=counts[1],
            skipped_users=skipped,
            schedule_id=None,
            next_run_at=None,
            request_hash=event.request_hash,
            outbox=[OutboundMessage(row[0], row[1], row[2].encode()) for row in rows],
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
                "UPDATE events SET recipients = %s, skipped_users = %s WHERE event_id = %s",
                (recipients, skipped_users, event.event_id),
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
                WHERE u.user_id = ANY(%(user_ids)s::uuid[])
                  AND EXISTS (SELECT 1 FROM unnest(%(channels)s::text[]) AS c(channel)
                              WHERE {_CONTACT_SQL.format(channel="c.channel")} IS NOT NULL)
                """,
                {"user_ids": list(dict.fromkeys(user_ids)), "channels": [str(c) for c in channels]},
            ).fetchone()
            skipped = [r[0] for r in conn.execute(_UNKNOWN_USERS_SQL, {"user_ids": list(user_ids)})]
        assert row is not None
        return int(row[0]), skipped

    def find_by_idempotency_key(self, key: str) -> StoredEvent | None:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                """
                SELECT e.event_id, e.status, e.recipients, e.notifications, e.skipped_users,
                       e.schedule_id, s.next_run_at, e.request_hash
                FROM events e LEFT JOIN schedules s USING (schedule_id)
                WHERE e.idempotency_key = %s
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
                SELECT channel, user_id, status, reason, attempts, sent_at, error
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

    # ---- outbox --------------------------------------------------------------------------------

    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                "UPDATE outbox SET published_at = %s, claimed_until = NULL WHERE message_id = ANY(%s)",
                (now, list(message_ids)),
            )

    def claim_unpublished(
        self, now: datetime, older_than: datetime, limit: int, lease_s: int
    ) -> list[OutboundMessage]:
        with self._connection() as conn:
            rows = conn.execute(
                """
                UPDATE outbox SET claimed_until = %(until)s
                WHERE message_id IN (
                    SELECT message_id FROM outbox
                    WHERE published_at IS NULL AND created_at < %(older_than)s
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

    # ---- delivery ledger -----------------------------------------------------------------------

    def claim(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        now: datetime,
        lease_s: int,
    ) -> set[uuid.UUID]:
        with self._connection() as conn:
            rows = conn.execute(
                f"""
                UPDATE notifications
                SET status = 'sending', attempts = attempts + 1, claimed_until = %(until)s,
                    reason = NULL
                WHERE event_id = %(event_id)s AND channel = %(channel)s
                  AND user_id = ANY(%(user_ids)s::uuid[]) AND {_CLAIMABLE}
                RETURNING user_id
                """,
                {
                    "until": now + timedelta(seconds=lease_s),
                    "event_id": event_id,
                    "channel": str(channel),
                    "user_ids": list(user_ids),
                    "now": now,
                },
            ).fetchall()
        return {row[0] for row in rows}

    def mark_sent(
        self, event_id: uuid.UUID, channel: Channel, user_id: uuid.UUID, now: datetime, provider_id: str
    ) -> None:
        with self._connection() as conn:
            conn.execute(
                """
                UPDATE notifications
                SET status = 'sent', sent_at = %s, provider_message_id = %s, error = NULL,
                    reason = NULL, claimed_until = NULL
                WHERE event_id = %s AND channel = %s AND user_id = %s
                """,
                (now, provider_id, event_id, str(channel), user_id),
            )

    def mark_failed(
        self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID], reason: str, error: str
    ) -> None:
        self._set_outcome(event_id, channel, user_ids, "failed", reason, error)

    def release_for_retry(
        self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID], error: str
    ) -> None:
        self._set_outcome(event_id, channel, user_ids, "retrying", None, error)

    def _set_outcome(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        status: str,
        reason: str | None,
        error: str,
    ) -> None:
        with self._connection() as conn:
            conn.execute(
                """
                UPDATE notifications
                SET status = %s, reason = %s, error = %s, claimed_until = NULL
                WHERE event_id = %s AND channel = %s AND user_id = ANY(%s::uuid[])
                """,
                (status, reason, error[:1000], event_id, str(channel), list(user_ids)),
            )


def _content_json(content: Sequence[DirectoryMovie]) -> str:
    return json.dumps([movie.model_dump(mode="json") for movie in content])


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
