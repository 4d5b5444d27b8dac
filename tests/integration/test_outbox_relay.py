"""The outbox relay: an event accepted while the broker is down goes out with a later tick, once."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import EventType
from notify.tick import run_tick
from tests.fakes import FakePublisher
from tests.integration.conftest import Api, MakeApi
from tests.integration.support import (
    event_body,
    make_user,
    message_rows,
    notification_rows,
    outbox_rows,
    parse,
)
from tests.unit.builders import tick_policy

pytestmark = pytest.mark.integration

GRACE_S = 30


@pytest.fixture
def stranded(make_api: MakeApi, store: PostgresStore) -> Api:
    """An event of 5 users x 3 channels (chunks of 2: 9 messages) accepted while the broker was down."""
    api = make_api(publisher=FakePublisher(down=True), message_chunk_size=2)
    users = [make_user() for _ in range(5)]
    store.upsert_users(users)

    answer = api.post("/events", event_body([u.user_id for u in users], EventType.NEW_EPISODE, priority=7))

    assert answer.status == 202, answer.text
    assert (answer.json["status"], answer.json["recipients"], answer.json["notifications"]) == (
        "queued",
        5,
        15,
    )
    return api


def test_relay_event_accepted_with_broker_down_stays_in_outbox(stranded: Api) -> None:
    rows = outbox_rows(stranded.dsn)

    assert len(rows) == 9
    assert all(published_at is None for _, _, published_at in rows.values())
    assert stranded.publisher.published == []
    assert len(notification_rows(stranded.dsn)) == 15


def test_relay_tick_publishes_stranded_messages_exactly_once(stranded: Api, store: PostgresStore) -> None:
    publisher = stranded.publisher
    publisher.down = False
    stored = outbox_rows(stranded.dsn)
    later = datetime.now(UTC) + timedelta(minutes=2)

    first = run_tick(
        now=later,
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )
    published_first = list(publisher.published)
    second = run_tick(
        now=later + timedelta(minutes=5),
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )

    assert (first.republished, second.republished) == (9, 0)
    assert publisher.published == published_first
    assert Counter(m.message_id for m in published_first) == Counter(set(stored))
    assert {m.message_id: (m.queue, m.body.decode()) for m in published_first} == {
        message_id: (queue, body) for message_id, (queue, body, _) in stored.items()
    }
    assert {m.queue for m in published_first} == {"notify-email-high", "notify-sms-high", "notify-push-high"}
    covered = message_rows(parse(published_first))
    assert len(covered) == len(set(covered))
    assert set(covered) == notification_rows(stranded.dsn)
    assert {published_at for _, _, published_at in outbox_rows(stranded.dsn).values()} == {later}


def test_relay_tick_leaves_messages_younger_than_the_grace(stranded: Api, store: PostgresStore) -> None:
    stranded.publisher.down = False

    report = run_tick(
        now=datetime.now(UTC),
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=stranded.publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )

    assert report.republished == 0
    assert stranded.publisher.published == []
    assert all(published_at is None for _, _, published_at in outbox_rows(stranded.dsn).values())


def test_relay_tick_with_broker_still_down_retries_after_the_lease(
    stranded: Api, store: PostgresStore
) -> None:
    publisher = stranded.publisher
    later = datetime.now(UTC) + timedelta(minutes=2)

    failed = run_tick(
        now=later,
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )
    publisher.down = False
    # The failed attempt leased the messages for 60 s: a tick inside the lease leaves them be.
    leased = run_tick(
        now=later + timedelta(seconds=30),
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )
    after = run_tick(
        now=later + timedelta(seconds=61),
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )

    assert (failed.republished, leased.republished, after.republished) == (0, 0, 9)
    assert {m.message_id for m in publisher.published} == set(outbox_rows(stranded.dsn))
    assert len(publisher.published) == 9


def test_relay_tick_publishes_only_what_the_api_could_not(make_api: MakeApi, store: PostgresStore) -> None:
    users = [make_user(phone=False, push=False) for _ in range(3)]
    store.upsert_users(users)
    publisher = FakePublisher()
    api = make_api(publisher=publisher)
    ok = api.post("/events", event_body([u.user_id for u in users], EventType.NEW_RELEASES_PROMO))
    publisher.down = True
    down = api.post("/events", event_body([u.user_id for u in users], EventType.NEW_RELEASES_PROMO))
    publisher.down = False
    before = list(publisher.published)

    report = run_tick(
        now=datetime.now(UTC) + timedelta(minutes=2),
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=GRACE_S),
    )

    assert (ok.status, down.status) == (202, 202)
    assert report.republished == 1
    assert [str(m.event_id) for m in parse(before)] == [ok.json["event_id"]]
    assert [str(m.event_id) for m in parse(publisher.published[len(before) :])] == [down.json["event_id"]]
