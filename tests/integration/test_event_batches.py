"""POST /events/batch in-process on the real PostgreSQL (broker faked): each event answered as POST
/events would, stored set-wise, replayed idempotently, limited as a whole."""

import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from notify.access.keys import issue_key
from notify.adapters.postgres import PostgresStore
from notify.bootstrap import services
from notify.channels import Channel, EventType
from notify.events import IngestPorts, accept_events
from notify.events.models import MAX_BATCH_BYTES
from tests.integration.conftest import Api, MakeApi
from tests.integration.support import (
    event_body,
    make_movie,
    make_user,
    message_rows,
    notification_rows,
    parse,
    table_counts,
)

pytestmark = pytest.mark.integration

STORED = ("events", "notifications", "outbox", "schedules")


def stored(api: Api) -> dict[str, int]:
    counts = table_counts(api.dsn)
    return {table: counts[table] for table in STORED}


def batch(api: Api, events: list[Any], key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else None
    answer = api.post("/events/batch", {"events": events}, headers=headers)
    assert answer.status == 207, answer.text
    return answer.json["results"]


def message_bodies(api: Api, event_id: str) -> list[dict[str, Any]]:
    """The published messages of an event, without what differs between two events (their ids)."""
    bodies = []
    for message in api.publisher.published:
        body = json.loads(message.body)
        if body["event_id"] == event_id:
            body.pop("message_id"), body.pop("event_id")
            for user in body["payload"]["user"]:
                user.pop("notification_id")
            bodies.append(body)
    return sorted(bodies, key=lambda body: (body["transport_type"], json.dumps(body["payload"]["user"])))


def test_a_batch_stores_what_single_posts_store(api: Api, store: PostgresStore) -> None:
    """Each event of a batch makes the rows, messages and answer POST /events makes for it."""
    users = [make_user(), make_user(phone=False), make_user(email=False, push=False)]
    store.upsert_users(users)
    movie = make_movie("Dune")
    store.upsert_movies([movie])
    stranger = str(uuid.uuid4())
    ids = [user.user_id for user in users]
    events = [
        event_body([*ids, stranger, ids[0]], EventType.NEW_EPISODE, [movie.movie_id]),
        event_body(ids[:1], EventType.COMMENT_LIKED, priority=9),
        event_body(ids[1:], EventType.NEW_RELEASES_PROMO),
        event_body([stranger], EventType.WATCH_LATER_REMINDER),
    ]

    singles = [api.post("/events", event) for event in events]
    results = batch(api, events)

    assert [result["status"] for result in results] == [202] * len(events)
    for single, result in zip(singles, results, strict=True):
        assert single.status == 202, single.text
        one, other = dict(single.json), dict(result["body"])
        assert one.pop("event_id") != other.pop("event_id")
        assert one == other
        assert message_bodies(api, single.json["event_id"]) == message_bodies(api, result["body"]["event_id"])
        assert notification_rows(api.dsn, single.json["event_id"]) == notification_rows(
            api.dsn, result["body"]["event_id"]
        )
    assert results[0]["body"]["skipped_users"] == [stranger]
    assert results[3]["body"] == {**results[3]["body"], "recipients": 0, "notifications": 0}
    with psycopg.connect(api.dsn) as conn:
        unpublished = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()
    assert unpublished == (0,)  # published at once, each marked


def test_one_refused_event_does_not_refuse_the_others(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    unknown_movie = str(uuid.uuid4())
    events: list[Any] = [
        event_body([user.user_id]),
        {"event_type": "new_episode", "payload": {"user": [str(user.user_id)]}},  # no created_dt
        event_body([user.user_id], content=[unknown_movie]),
        "not an event",
        event_body([user.user_id], "no_such_workflow"),
        event_body([user.user_id], start_dt=(datetime.now(UTC) + timedelta(days=1)).isoformat()),
    ]

    results = batch(api, events)

    assert [result["status"] for result in results] == [202, 422, 422, 422, 422, 202]
    locs = [[error["loc"] for error in result["body"].get("errors", [])] for result in results]
    assert locs[1] == [["body", "events", 1, "created_dt"]]
    assert locs[2] == [["body", "events", 2, "payload", "content", 0]]
    assert unknown_movie in results[2]["body"]["errors"][0]["msg"]
    assert locs[3] == [["body", "events", 3]]
    assert locs[4] == [["body", "events", 4, "event_type"]]
    assert results[5]["body"]["status"] == "scheduled"
    assert results[5]["body"]["schedule_id"]
    assert stored(api) == {"events": 2, "notifications": 3, "outbox": 3, "schedules": 1}


def test_an_event_to_an_audience_takes_its_first_steps_as_post_events_does(
    make_api: MakeApi, store: PostgresStore
) -> None:
    api = make_api(fan_out_step=2)
    store.upsert_users([make_user() for _ in range(3)])
    event = {
        "event_type": "new_episode",
        "created_dt": "2025-03-01T12:00:00+00:00",
        "payload": {"audience": "all"},
    }

    single = api.post("/events", event)
    results = batch(api, [event, event])

    assert single.status == 202, single.text
    assert [r["status"] for r in results] == [202, 202]
    for result in results:
        assert (
            result["body"]["fan_out"]
            == single.json["fan_out"]
            == {"recipients": 3, "done": 3, "complete": True}
        )
        assert result["body"]["notifications"] == single.json["notifications"] == 9


def test_a_replayed_batch_answers_the_same_and_stores_nothing_twice(api: Api, store: PostgresStore) -> None:
    users = [make_user() for _ in range(3)]
    store.upsert_users(users)
    events = [
        {**event_body([user.user_id], EventType.COMMENT_LIKED), "idempotency_key": f"like-{n}"}
        for n, user in enumerate(users)
    ]
    unkeyed = event_body([users[0].user_id], EventType.COMMENT_LIKED)

    first = batch(api, [*events, unkeyed])
    after_first = stored(api)
    second = batch(api, [*events, unkeyed])

    assert [r["status"] for r in first] == [r["status"] for r in second] == [202] * 4
    assert [r["body"] for r in first[:3]] == [r["body"] for r in second[:3]]
    assert first[3]["body"]["event_id"] != second[3]["body"]["event_id"]  # no key: a new event
    grown = {table: stored(api)[table] - after_first[table] for table in STORED}
    assert grown == {"events": 1, "notifications": 2, "outbox": 2, "schedules": 0}


def test_a_key_is_the_header_s_namespace_and_a_changed_event_conflicts(
    api: Api, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    body = event_body([user.user_id], EventType.COMMENT_LIKED)
    single = api.post("/events", body, headers={"Idempotency-Key": "shared"})
    assert single.status == 202, single.text
    changed = event_body([user.user_id], EventType.COMMENT_LIKED, priority=9)

    results = batch(
        api,
        [
            {**body, "idempotency_key": "shared"},
            {**changed, "idempotency_key": "shared"},
            {**changed, "idempotency_key": "twice"},
            {**changed, "idempotency_key": "twice"},
            {**body, "idempotency_key": "twice"},
            {**body, "idempotency_key": ""},
        ],
    )

    assert [r["status"] for r in results] == [202, 409, 202, 202, 409, 422]
    assert results[0]["body"] == single.json
    assert results[1]["body"]["errors"][0]["loc"] == ["body", "events", 1, "idempotency_key"]
    assert results[2]["body"] == results[3]["body"]
    assert results[5]["body"]["errors"][0]["loc"] == ["body", "events", 5, "idempotency_key"]
    assert stored(api)["events"] == 2


def test_a_batch_beyond_its_limits_is_refused_whole(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    event = event_body([user.user_id])

    too_many = api.post("/events/batch", {"events": [event] * 101})
    empty = api.post("/events/batch", {"events": []})
    padding = "x" * MAX_BATCH_BYTES
    too_large = api.post("/events/batch", {"events": [event], "padding": padding})
    not_a_list = api.post("/events/batch", {"events": event})

    assert (too_many.status, too_many.json["errors"][0]["loc"]) == (422, ["body", "events"])
    assert (empty.status, empty.json["errors"][0]["loc"]) == (422, ["body", "events"])
    assert (too_large.status, too_large.json["errors"][0]["loc"]) == (413, ["body"])
    assert (not_a_list.status, not_a_list.json["errors"][0]["loc"]) == (422, ["body", "events"])
    assert stored(api) == {"events": 0, "notifications": 0, "outbox": 0, "schedules": 0}


def test_a_batch_counts_each_event_against_the_rate_limit(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    key = issue_key("limited", ["events:write"], 10, now=datetime.now(UTC), keys=store).key
    event = event_body([user.user_id], EventType.COMMENT_LIKED)

    eight = api.post("/events/batch", {"events": [event] * 8}, headers={"Authorization": f"Bearer {key}"})
    three = api.post("/events/batch", {"events": [event] * 3}, headers={"Authorization": f"Bearer {key}"})
    two = api.post("/events/batch", {"events": [event] * 2}, headers={"Authorization": f"Bearer {key}"})
    single = api.post("/events", event, headers={"Authorization": f"Bearer {key}"})
    eleven = api.post("/events/batch", {"events": [event] * 11}, headers={"Authorization": f"Bearer {key}"})

    assert eight.status == 207, eight.text
    assert three.status == 429, three.text
    assert int(three.headers["retry-after"]) >= 1
    assert two.status == 207, two.text
    assert single.status == 429, single.text
    assert (eleven.status, eleven.json["errors"][0]["loc"]) == (422, ["body", "events"])
    assert "holds 11 events" in eleven.json["errors"][0]["msg"]
    assert stored(api)["events"] == 10


def test_a_batch_refused_whole_costs_one_request(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    key = issue_key("limited", ["events:write"], 150, now=datetime.now(UTC), keys=store).key
    event = event_body([user.user_id], EventType.COMMENT_LIKED)
    auth = {"Authorization": f"Bearer {key}"}

    too_many = api.post("/events/batch", {"events": [event] * 101}, headers=auth)
    with_bom = api.request(
        "POST", "/events/batch", raw_body="\ufeff" + json.dumps({"events": [event] * 5}), headers=auth
    )

    assert too_many.status == 422, too_many.text
    assert with_bom.status == 422, with_bom.text
    with psycopg.connect(api.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM api_key_hits").fetchone() == (2,)


def test_concurrent_replays_of_a_batch_store_each_event_once(
    api: Api, store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user() for _ in range(40)]
    store.upsert_users(users)
    events = [
        {**event_body([user.user_id], EventType.COMMENT_LIKED), "idempotency_key": f"burst-{n}"}
        for n, user in enumerate(users)
    ]
    ctx = services()
    answers: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def replay(order: int) -> None:
        own = PostgresStore(pg_dsn)
        try:
            ports = IngestPorts(
                events=own, directory=own, outbox=own, publisher=ctx.publisher, workflows=ctx.workflows
            )
            # Each replay lists the events in another order: their keys' locks are still taken in one.
            shuffled = events[order:] + events[:order]
            start.wait()
            result = accept_events(shuffled, now=datetime.now(UTC), ports=ports, policy=ctx.ingest_policy)
            answers.append(dict(zip([e["idempotency_key"] for e in shuffled], result.results, strict=True)))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=replay, args=(order * 7,)) for order in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(answers) == 4
    for key in answers[0]:
        outcomes = {(r.status, r.body.model_dump_json()) for r in (answer[key] for answer in answers)}
        assert len(outcomes) == 1, (key, outcomes)  # every replay answered as the first
    assert stored(api) == {"events": 40, "notifications": 80, "outbox": 80, "schedules": 0}
    recipients = Counter(message_rows(parse(api.publisher.published)))
    assert set(recipients.values()) == {1}
    assert {channel for channel, _ in recipients} == {Channel.EMAIL, Channel.PUSH}


def test_a_schedule_past_the_calendar_is_422_alone_and_the_rest_is_stored_once(
    api: Api, store: PostgresStore
) -> None:
    """croniter overflows after year 9999: that was a 5xx for POST /events, and in a batch it came after
    the other events were committed (unanswered, unpublished, stored again on a retry)."""
    user = make_user()
    store.upsert_users([user])
    far = event_body([user.user_id], schedule="0 9 * * *", start_dt="9999-12-31T23:59:59+00:00")

    single = api.post("/events", far)
    results = batch(
        api, [event_body([user.user_id]), {**event_body([user.user_id]), "idempotency_key": "k"}, far]
    )

    assert single.status == 422, single.text
    assert single.json["errors"][0]["loc"] == ["body", "schedule"]
    assert [r["status"] for r in results] == [202, 202, 422]
    assert results[2]["body"]["errors"][0]["loc"] == ["body", "events", 2, "schedule"]
    assert stored(api) == {"events": 2, "notifications": 6, "outbox": 6, "schedules": 0}
    with psycopg.connect(api.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone() == (0,)


def test_a_batch_of_every_kind_is_one_transaction(api: Api, store: PostgresStore, pg_dsn: str) -> None:
    """Deferred, audience and list events of one batch commit together: a failure in any stores none."""
    user = make_user()
    store.upsert_users([user])
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    audience = {
        "event_type": "new_episode",
        "created_dt": "2025-03-01T12:00:00+00:00",
        "payload": {"audience": "all"},
    }
    events = [
        event_body([user.user_id]),
        event_body([user.user_id], start_dt=later),
        event_body([user.user_id], schedule="0 9 * * *"),
        audience,
    ]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        # schedules refuse every insert for the length of this test: the deferred events fail
        conn.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE 'refused'; END$$;"
            " CREATE TRIGGER refuse BEFORE INSERT ON schedules FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    try:
        with pytest.raises(psycopg.errors.RaiseException):  # an invocation error: API Gateway's 502
            api.post("/events/batch", {"events": events})
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute("DROP TRIGGER refuse ON schedules; DROP FUNCTION refuse()")
    assert stored(api) == {"events": 0, "notifications": 0, "outbox": 0, "schedules": 0}

    results = batch(api, events)

    assert [r["status"] for r in results] == [202] * 4
    assert [r["body"]["status"] for r in results] == ["queued", "scheduled", "scheduled", "queued"]
    assert stored(api)["schedules"] == 2
    assert results[3]["body"]["fan_out"]["recipients"] == 1


def test_a_nul_in_one_event_refuses_that_event_alone(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    events = [
        event_body([user.user_id]),
        {**event_body([user.user_id]), "idempotency_key": "a\u0000b"},
        {**event_body([user.user_id]), "idempotency_key": "line\nbreak"},
        {**event_body([user.user_id]), "body": 1},
    ]

    results = batch(api, events)

    assert [r["status"] for r in results] == [202, 422, 422, 422]
    assert [r["body"]["errors"][0]["loc"] for r in results[1:]] == [
        ["body", "events", 1, "idempotency_key"],
        ["body", "events", 2, "idempotency_key"],
        ["body", "events", 3, "body"],
    ]
    assert "NUL" in results[1]["body"]["errors"][0]["msg"]
    assert stored(api)["events"] == 1
