"""The tick's retention (notify.retention) on the real PostgreSQL: what is old and done goes, in
bounded batches; what is unfinished, parked or young stays."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.retention import PruneReport, RetentionPolicy, prune_old_rows

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
POLICY = RetentionPolicy(outbox_for=timedelta(days=7), records_for=timedelta(days=90), batch=100, batches=5)


def add_event(
    conn: psycopg.Connection,
    received_days_ago: int,
    statuses: list[str],
    status: str = "queued",
    fan_out_complete: bool | None = None,
) -> uuid.UUID:
    event_id = uuid.uuid4()
    received = NOW - timedelta(days=received_days_ago)
    conn.execute(
        """INSERT INTO events (event_id, event_type, created_dt, priority, status, content, received_at,
                               fan_out_complete)
           VALUES (%s, 'new_episode', %s, 5, %s, '{}', %s, %s)""",
        (event_id, received, status, received, fan_out_complete),
    )
    conn.execute(
        "INSERT INTO event_status_counts (event_id, counts, counted_at) VALUES (%s, '{}', %s)",
        (event_id, received),
    )
    for status in statuses:
        conn.execute(
            "INSERT INTO notifications (event_id, channel, user_id, status) VALUES (%s, 'email', %s, %s)",
            (event_id, uuid.uuid4(), status),
        )
    return event_id


def add_outbox(conn: psycopg.Connection, days_ago: int, published: bool, parked: bool = False) -> uuid.UUID:
    message_id, at = uuid.uuid4(), NOW - timedelta(days=days_ago)
    conn.execute(
        """INSERT INTO outbox (message_id, queue, body, created_at, published_at, parked_at)
           VALUES (%s, 'q', '{}', %s, %s, %s)""",
        (message_id, at, at if published else None, at if parked else None),
    )
    return message_id


def add_feedback(conn: psycopg.Connection, days_ago: int) -> str:
    message_id = str(uuid.uuid4())
    conn.execute(
        """INSERT INTO delivery_feedback (provider_message_id, kind, address, received_at)
           VALUES (%s, 'delivered', 'a@example.org', %s)""",
        (message_id, NOW - timedelta(days=days_ago)),
    )
    return message_id


def ids(conn: psycopg.Connection, sql: str) -> set[object]:
    return {row[0] for row in conn.execute(sql).fetchall()}


def test_old_finished_rows_go_and_unfinished_parked_or_young_ones_stay(
    store: PostgresStore, pg_dsn: str
) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        done = add_event(conn, 100, ["sent", "delivered", "skipped", "failed"])
        still_going = add_event(conn, 100, ["sent", "queued", "deferred"])
        young = add_event(conn, 30, ["sent"])
        of_a_schedule = add_event(conn, 100, [], status="scheduled")  # its schedule may still fire
        fanning_out = add_event(conn, 100, ["sent"], fan_out_complete=False)  # its audience half done
        old_published = add_outbox(conn, 10, published=True)
        kept_messages = {
            add_outbox(conn, 1, published=True),
            add_outbox(conn, 10, published=False),  # the relay's still
            add_outbox(conn, 10, published=False, parked=True),  # an operator's to decide
        }
        old_feedback, new_feedback = add_feedback(conn, 100), add_feedback(conn, 10)

    report = prune_old_rows(store, POLICY, NOW, time_left=lambda: 10.0)

    with psycopg.connect(pg_dsn) as conn:
        assert report == PruneReport(outbox=1, notifications=5, feedback=1)
        kept_events = {still_going, young, of_a_schedule, fanning_out}
        assert ids(conn, "SELECT event_id FROM events") == kept_events
        assert ids(conn, "SELECT event_id FROM event_status_counts") == kept_events
        left = conn.execute("SELECT event_id, status FROM notifications ORDER BY status, event_id").fetchall()
        assert sorted(left) == sorted(
            [(still_going, "deferred"), (still_going, "queued"), (young, "sent"), (fanning_out, "sent")]
        )
        assert ids(conn, "SELECT message_id FROM outbox") == kept_messages
        assert old_published not in kept_messages
        assert ids(conn, "SELECT provider_message_id FROM delivery_feedback") == {new_feedback}
        assert old_feedback != new_feedback
        assert done not in ids(conn, "SELECT event_id FROM events")


def test_each_tick_deletes_at_most_its_batches_and_stops_when_its_time_is_up(
    store: PostgresStore, pg_dsn: str
) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for _ in range(7):
            add_outbox(conn, 10, published=True)
    small = RetentionPolicy(outbox_for=timedelta(days=7), records_for=timedelta(days=90), batch=2, batches=2)

    first = prune_old_rows(store, small, NOW, time_left=lambda: 10.0)
    out_of_time = prune_old_rows(store, small, NOW, time_left=lambda: 0.0)
    second = prune_old_rows(store, small, NOW, time_left=lambda: 10.0)

    assert (first.outbox, out_of_time.outbox, second.outbox) == (4, 0, 3)
