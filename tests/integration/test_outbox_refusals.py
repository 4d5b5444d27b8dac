"""What the broker or the database refuses after an event committed: the ingest still answers
202, a message the broker refuses is parked with its error, and the ones behind it go out."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import EventType
from notify.tick import run_tick
from tests.fakes import FakePublisher
from tests.integration.conftest import MakeApi
from tests.integration.support import event_body, make_user, notification_rows, outbox_rows
from tests.unit.builders import tick_policy

pytestmark = pytest.mark.integration

GRACE_S = 30


@contextmanager
def outbox_updates_refused(dsn: str, errcode: str) -> Iterator[None]:
    """PostgreSQL refuses every UPDATE of the outbox (mark_published, park) with `errcode`."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"""
            CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '{errcode}'; END $$;
            CREATE TRIGGER test_refuse BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION test_refuse();
            """
        )
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER test_refuse ON outbox; DROP FUNCTION test_refuse()")


def parked_rows(dsn: str) -> dict[uuid.UUID, tuple[str, datetime, str, datetime | None]]:
    """message_id -> (body, parked_at, error, published_at) of every parked message."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT message_id, body, parked_at, error, published_at FROM outbox WHERE parked_at IS NOT NULL"
        ).fetchall()
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def tick(store: PostgresStore, publisher: FakePublisher, now: datetime) -> tuple[int, int]:
    report = run_tick(
        now=now,
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )
    return report.republished, report.parked


# ---- the ingest answers what happened -----------------------------------------------------------


@pytest.mark.parametrize(
    "errcode",
    [
        "57P01",  # admin_shutdown: the connection is terminated under the statement (an outage)
        "P0001",  # any other error the database raises
    ],
)
def test_post_events_answers_202_when_mark_published_is_refused_by_the_database(
    make_api: MakeApi, store: PostgresStore, errcode: str
) -> None:
    publisher = FakePublisher()
    api = make_api(publisher=publisher, message_chunk_size=2)
    users = [make_user() for _ in range(3)]
    store.upsert_users(users)

    with outbox_updates_refused(api.dsn, errcode):
        answer = api.post("/events", event_body([u.user_id for u in users], EventType.NEW_EPISODE))

    assert answer.status == 202, answer.text
    assert (answer.json["status"], answer.json["recipients"], answer.json["notifications"]) == (
        "queued",
        3,
        9,
    )
    assert len(notification_rows(api.dsn, answer.json["event_id"])) == 9
    stored = outbox_rows(api.dsn)
    assert len(stored) == 6  # 2 + 1 per channel
    # The broker took them, the database could not record it: the relay publishes them again.
    assert {m.message_id for m in publisher.published} == set(stored)
    assert {published_at for _, _, published_at in stored.values()} == {None}

    assert tick(store, publisher, datetime.now(UTC) + timedelta(minutes=2)) == (6, 0)
    assert {published_at is not None for _, _, published_at in outbox_rows(api.dsn).values()} == {True}


# ---- one refused message does not stop the relay ------------------------------------------------


def test_relay_parks_the_message_the_broker_refuses_and_publishes_the_others(
    make_api: MakeApi, store: PostgresStore
) -> None:
    publisher = FakePublisher(down=True)
    api = make_api(publisher=publisher, message_chunk_size=1)
    users = [make_user(phone=False) for _ in range(3)]
    store.upsert_users(users)
    api.post("/events", event_body([u.user_id for u in users], EventType.NEW_EPISODE, priority=8))
    stored = outbox_rows(api.dsn)
    refused = {m for m, (queue, _, _) in stored.items() if queue == "notify-push-high"}
    publisher.down, publisher.unroutable = False, {"notify-push-high"}
    later = datetime.now(UTC) + timedelta(minutes=2)

    first = tick(store, publisher, later)
    second = tick(store, publisher, later + timedelta(minutes=5))

    assert (first, second) == ((3, 3), (0, 0))
    assert sorted(m.message_id for m in publisher.published) == sorted(set(stored) - refused)
    parked = parked_rows(api.dsn)
    assert set(parked) == refused
    assert {(at, error, published) for _, at, error, published in parked.values()} == {
        (later, "fake: no queue notify-push-high", None)
    }
    assert store.parked_count() == 3
    assert api.get("/health").json["outbox"] == {"parked": 3}


def test_relay_parks_a_stored_message_over_the_broker_limit_as_it_is(
    store: PostgresStore, pg_dsn: str
) -> None:
    """The fault suite's oversized-outbox: a row over 256 KiB written into the outbox, ordinary
    ones queued behind it. The relay does not cut a stored message: it parks it, whole."""
    oversized = uuid.uuid4()
    behind = [uuid.uuid4() for _ in range(3)]
    created = datetime.now(UTC) - timedelta(minutes=10)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "INSERT INTO outbox (message_id, queue, body, created_at) VALUES (%s, %s, %s, %s)",
            (oversized, "notify-email-low", '{"pad": "' + "x" * 300_000 + '"}', created),
        )
        for n, message_id in enumerate(behind, start=1):
            conn.execute(
                "INSERT INTO outbox (message_id, queue, body, created_at) VALUES (%s, %s, %s, %s)",
                (message_id, "notify-email-low", f'{{"n": {n}}}', created + timedelta(seconds=n)),
            )
    publisher = FakePublisher(max_bytes=262_144)
    now = datetime.now(UTC)

    assert tick(store, publisher, now) == (3, 1)

    assert sorted(m.message_id for m in publisher.published) == sorted(behind)
    [(body, at, error, published)] = parked_rows(pg_dsn).values()
    assert (len(body), at, error, published) == (300_011, now, "fake: larger than 262144 bytes", None)
    assert len(outbox_rows(pg_dsn)) == 4  # nothing was cut or added
    assert tick(store, publisher, now + timedelta(minutes=5)) == (0, 0)
