"""Audience fan-outs against PostgreSQL: bulk subscriptions, steps resumed after a killed process, the
membership cutoff, concurrent steppers, `all`, schedules to a topic, progress through the API."""

import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.bootstrap import control_rules
from notify.channels import EVENT_CHANNELS, Channel, EventType, QueueRouter, shipped_channels
from notify.delivery.rendering import TemplateRenderer
from notify.delivery.unsubscribe_links import FixedKey, UnsubscribeLinks
from notify.events.fan_out import FanOutPolicy, FanOutReport, advance_fan_outs
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryUser, EventAccepted, EventRequest
from notify.feedback.ports import Suppression
from notify.settings import Settings
from notify.tick import run_tick
from notify_dev.benchmarks import quiet_free_timezone
from notify_dev.delivering import deliver
from tests.fakes import FakePublisher, FakeSender
from tests.integration.conftest import MakeApi
from tests.integration.support import make_user, notification_rows, parse
from tests.unit.builders import tick_policy

ROOT = Path(__file__).resolve().parents[2]
ROUTER = QueueRouter("notify")
TOPIC = "series:1"
CHANNELS = EVENT_CHANNELS[EventType.NEW_EPISODE]


def to_audience(topic: str = TOPIC, **fields: object) -> EventRequest:
    return EventRequest.model_validate(
        {
            "event_type": str(EventType.NEW_EPISODE),
            "created_dt": "2025-03-01T12:00:00+00:00",
            "payload": {"audience": topic},
            **fields,
        }
    )


def accept(store: PostgresStore, request: EventRequest, now: datetime | None = None) -> EventAccepted:
    """Accepted with no time for steps in the request: the fan-out is all the steppers'."""
    return accept_event(
        request,
        now=now or datetime.now(UTC),
        ports=IngestPorts(
            events=store,
            directory=store,
            outbox=store,
            publisher=FakePublisher(),
            audiences=store,
            fan_outs=store,
        ),
        policy=IngestPolicy(router=ROUTER, chunk_size=7),
    )


def step_all(store: PostgresStore, publisher: FakePublisher, members: int = 10) -> FanOutReport:
    return advance_fan_outs(
        fan_outs=store,
        outbox=store,
        publisher=publisher,
        policy=FanOutPolicy(router=ROUTER, step_members=members, chunk_size=7),
        now=lambda: datetime.now(UTC),
        time_left=lambda: 60.0,
    )


def subscribe(store: PostgresStore, users: list[DirectoryUser], topic: str = TOPIC) -> None:
    if store.find_topic(topic) is None:
        store.put_topic(topic, None)
    done = store.change_subscribers(topic, [str(u.user_id) for u in users], [])
    assert done is not None
    assert done.unknown_users == []


def expected_rows(users: list[DirectoryUser]) -> set[tuple[Channel, uuid.UUID]]:
    return {(channel, u.user_id) for u in users for channel in CHANNELS}


def outbox_recipients(dsn: str, event_id: uuid.UUID) -> Counter[tuple[Channel, uuid.UUID]]:
    """How often each (channel, user) appears across the event's outbox messages, published or not."""
    with psycopg.connect(dsn) as conn:
        bodies = [row[0] for row in conn.execute("SELECT body FROM outbox").fetchall()]
    seen: Counter[tuple[Channel, uuid.UUID]] = Counter()
    for body in bodies:
        message = json.loads(body)
        if message["event_id"] == str(event_id):
            seen.update(
                (Channel(message["transport_type"]), uuid.UUID(r["user_id"]))
                for r in message["payload"]["user"]
            )
    return seen


def fan_out_state(dsn: str, event_id: uuid.UUID) -> tuple[int, bool, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT fan_out_done, fan_out_complete, notifications FROM events WHERE event_id = %s",
            (event_id,),
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_topics_subscribe_100000_in_one_call_and_unsubscribe_half(
    make_api: MakeApi, store: PostgresStore, pg_dsn: str
) -> None:
    with psycopg.connect(pg_dsn) as conn:
        ids = [
            str(row[0])
            for row in conn.execute(
                "INSERT INTO directory_users (user_id, email)"
                " SELECT gen_random_uuid(), 'u' || n || '@example.test'"
                " FROM generate_series(1, 100000) AS n RETURNING user_id"
            ).fetchall()
        ]
    api = make_api()
    assert api.put("/topics/genre:drama", None).status == 201

    added = api.post("/topics/genre:drama/subscribers", {"add": ids})
    removed = api.post("/topics/genre:drama/subscribers", {"remove": ids[::2]})
    page = api.get("/topics/genre:drama/subscribers", {"limit": "1000"})

    assert added.status == 200, added.text
    assert (added.json["added"], added.json["subscribers"], added.json["skipped_users"]) == (
        100_000,
        100_000,
        [],
    )
    assert (removed.json["removed"], removed.json["subscribers"]) == (50_000, 50_000)
    assert api.get("/topics/genre:drama").json["subscribers"] == 50_000
    with psycopg.connect(pg_dsn) as conn:
        stored = {
            str(r[0])
            for r in conn.execute("SELECT user_id FROM topic_subscribers WHERE topic = 'genre:drama'")
        }
    assert stored == set(ids[1::2])
    assert [item["user_id"] for item in page.json["items"]] == sorted(stored)[:1000]


@pytest.fixture
def stepper() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_fan_out_killed_between_steps_resumes_with_no_gap_and_no_duplicate(
    store: PostgresStore, pg_dsn: str, stepper: list[subprocess.Popen[str]]
) -> None:
    users = [make_user() for _ in range(3000)]
    store.upsert_users(users)
    subscribe(store, users)
    event_id = accept(store, to_audience()).event_id
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.fan_out_stepper", pg_dsn, str(event_id), "200", "7"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    stepper.append(process)
    assert process.stdout is not None
    committed = [process.stdout.readline() for _ in range(2)]
    process.send_signal(signal.SIGKILL)  # while it is in its third step (or just after it)
    process.wait(timeout=10)

    done, complete, _ = fan_out_state(pg_dsn, event_id)
    assert committed == ["done 200\n", "done 400\n"]
    assert not complete
    assert done in (400, 600, 800)  # whole steps only: a step killed mid-transaction left nothing

    publisher = FakePublisher()
    step_all(store, publisher, members=500)

    assert fan_out_state(pg_dsn, event_id) == (3000, True, 3000 * len(CHANNELS))
    assert notification_rows(pg_dsn, event_id) == expected_rows(users)
    seen = outbox_recipients(pg_dsn, event_id)
    assert set(seen) == expected_rows(users)
    assert max(seen.values()) == 1  # no recipient in two messages


def test_fan_out_reaches_members_of_when_it_was_accepted(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user() for _ in range(6)]
    store.upsert_users(users)
    subscribe(store, users[:4])
    event_id = accept(store, to_audience()).event_id
    changed = store.change_subscribers(TOPIC, [str(users[5].user_id)], [str(users[0].user_id)])
    assert changed is not None

    step_all(store, FakePublisher(), members=2)

    # users[5] joined after: not reached; users[0] left before its step: not reached either.
    assert notification_rows(pg_dsn, event_id) == expected_rows(users[1:4])


def test_fan_out_concurrent_steppers_make_each_row_once(store: PostgresStore, pg_dsn: str) -> None:
    from tests.integration.support import run_at_once

    users = [make_user() for _ in range(400)]
    store.upsert_users(users)
    subscribe(store, users)
    event_id = accept(store, to_audience()).event_id

    reports = run_at_once(4, lambda _: step_all(store, FakePublisher(), members=25))

    assert sum(r.members for r in reports) == 400
    assert fan_out_state(pg_dsn, event_id) == (400, True, 400 * len(CHANNELS))
    seen = outbox_recipients(pg_dsn, event_id)
    assert set(seen) == expected_rows(users)
    assert max(seen.values()) == 1


def test_fan_out_to_all_reaches_the_directory_of_when_it_was_accepted(
    store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user() for _ in range(5)] + [make_user(email=False, phone=False, push=False)]
    store.upsert_users(users)
    answer = accept(store, to_audience("all"))
    store.upsert_users([make_user()])  # joins after the event

    step_all(store, FakePublisher())

    assert answer.recipients == 6
    assert notification_rows(pg_dsn, answer.event_id) == expected_rows(users[:5])


def test_schedule_to_a_topic_reads_its_members_again_at_every_occurrence(
    store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user() for _ in range(4)]
    store.upsert_users(users)
    subscribe(store, users[:2])
    first_run = datetime(2025, 3, 1, 12, tzinfo=UTC)
    answer = accept(
        store, to_audience(schedule="0 * * * *", timezone="UTC"), now=first_run - timedelta(minutes=5)
    )
    assert (answer.status, answer.recipients) == ("scheduled", 2)

    def tick(now: datetime) -> uuid.UUID:
        publisher = FakePublisher()
        report = run_tick(
            now=now,
            schedules=store,
            waiting=store,
            outbox=store,
            publisher=publisher,
            policy=tick_policy(chunk_size=7),
            fan_outs=store,
            time_left=lambda: 50.0,
        )
        assert (report.occurrences_sent, report.fan_outs_completed) == (1, 1)
        return {m.event_id for m in parse(publisher.published)}.pop()

    first = tick(first_run)
    store.change_subscribers(TOPIC, [str(users[2].user_id), str(users[3].user_id)], [str(users[0].user_id)])
    second = tick(first_run + timedelta(hours=1))

    assert notification_rows(pg_dsn, first) == expected_rows(users[:2])
    assert notification_rows(pg_dsn, second) == expected_rows(users[1:])


def test_get_event_shows_fan_out_progress(make_api: MakeApi, store: PostgresStore) -> None:
    users = [make_user() for _ in range(30)]
    store.upsert_users(users)
    subscribe(store, users)
    api = make_api(fan_out_inline_seconds=0)

    accepted = api.post("/events", {**json.loads(to_audience().model_dump_json(exclude_none=True))})
    event_id = accepted.json["event_id"]
    before = api.get(f"/events/{event_id}").json
    step_all(store, FakePublisher(), members=10)
    after = api.get(f"/events/{event_id}").json

    assert accepted.status == 202, accepted.text
    assert accepted.json["fan_out"] == {"recipients": 30, "done": 0, "complete": False}
    assert (before["status"], before["fan_out"]) == (
        "queued",
        {"recipients": 30, "done": 0, "complete": False},
    )
    assert after["fan_out"] == {"recipients": 30, "done": 30, "complete": True}
    assert after["notifications"] == 30 * len(CHANNELS)


def test_fan_out_recipients_still_pass_the_controls(make_api: MakeApi, store: PostgresStore) -> None:
    """A topic is not a bypass: a suppressed address and a channel opted out of are skipped when sent."""
    now = datetime.now(UTC)  # fresh for the API's clock; the users' zone keeps quiet hours out of it
    zone = quiet_free_timezone(now)
    suppressed, opted_out, plain = users = [
        make_user(phone=False, push=False, timezone=zone) for _ in range(3)
    ]
    store.upsert_users(users)
    subscribe(store, users)
    api = make_api()
    assert suppressed.email is not None
    store.suppress([Suppression("email", suppressed.email, "hard_bounce", datetime.now(UTC))])
    preferences = api.put(f"/users/{opted_out.user_id}/preferences", {"new_episode": {"email": False}})
    assert preferences.status == 200, preferences.text
    fresh = to_audience(created_dt=now.isoformat())
    accepted = api.post("/events", json.loads(fresh.model_dump_json(exclude_none=True)))
    assert accepted.json["fan_out"]["complete"] is True, accepted.text

    sender = FakeSender()
    links = UnsubscribeLinks(
        base_url="https://cinema.example/v1", keys=FixedKey("s" * 32), valid_for=timedelta(days=1)
    )
    for message in parse(api.publisher.published):
        deliver(
            message,
            store,
            sender,
            TemplateRenderer(links=links),
            now=now,
            rules=control_rules(Settings()),
            controls=store,
        )

    listed = api.get(f"/events/{accepted.json['event_id']}/notifications").json["items"]
    assert {uuid.UUID(i["user_id"]): (i["status"], i["reason"]) for i in listed} == {
        suppressed.user_id: ("skipped", "suppressed"),
        opted_out.user_id: ("skipped", "opted_out"),
        plain.user_id: ("sent", None),
    }
    assert [address for address, _ in sender.sent] == [plain.email]


def test_fan_out_steps_take_the_highest_priority_first_then_the_oldest(store: PostgresStore) -> None:
    users = [make_user() for _ in range(30)]
    store.upsert_users(users)
    subscribe(store, users)
    now = datetime.now(UTC)
    promo = accept(store, to_audience(priority=1), now)
    older_urgent = accept(store, to_audience(priority=9), now)
    newer_urgent = accept(store, to_audience(priority=9), now)

    def routes(event_type: str, version: int, priority: int) -> dict[Channel, tuple[str, int]]:
        return ROUTER.routes_for(shipped_channels(event_type, version), priority)

    order = []
    while (step := store.fan_out_step(None, members=100, routes=routes, chunk_size=7)) is not None:
        order.append(step.event_id)

    assert order == [older_urgent.event_id, newer_urgent.event_id, promo.event_id]
