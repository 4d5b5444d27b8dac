"""The HTTP API through the ingest function, driven by the API Gateway (REST) events in events/."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.ingest.app import lambda_handler
from notify.bootstrap import Services
from notify.channels import Channel
from notify.events.models import DirectoryMovie, DirectoryUser
from tests.fakes import FakeDeadLetters, FakeEventStore, FakeLambdaContext, FakePublisher, Row
from tests.fakes.keys import add_sample_key
from tests.unit.api_calls import install_fakes
from tests.unit.builders import load_event


@pytest.fixture
def store() -> FakeEventStore:
    """A directory holding the users and movie of events/api_post_event.json."""
    request = json.loads(load_event("api_post_event")["body"])
    alice, boris = request["payload"]["user"]
    store = FakeEventStore()
    store.upsert_users(
        [
            DirectoryUser(user_id=alice, email="alice@example.com", phone="+447700900123"),
            DirectoryUser(user_id=boris, email="boris@example.ru", push_token="tok-b", locale="ru"),
        ]
    )
    store.upsert_movies([DirectoryMovie(movie_id=request["payload"]["content"][0], title="The Long Night")])
    return store


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def installed(store: FakeEventStore, publisher: FakePublisher) -> Services:
    add_sample_key(store, datetime.now(UTC))
    return install_fakes(store, publisher)


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.usefixtures("installed")
def test_post_event_accepts_and_publishes(store: FakeEventStore, publisher: FakePublisher) -> None:
    status, body = call(load_event("api_post_event"))

    assert status == 202
    assert body["status"] == "queued"
    assert (body["recipients"], body["notifications"], body["skipped_users"]) == (2, 4, [])
    assert uuid.UUID(body["event_id"]) in store.events
    assert store.events[uuid.UUID(body["event_id"])].idempotency_key == "7f9e2c54-episode-2x05"
    assert sorted(m.queue for m in publisher.published) == [
        "notify-email-high",
        "notify-push-high",
        "notify-sms-high",
    ]


@pytest.mark.usefixtures("installed")
def test_post_event_replay_with_the_same_key_answers_the_same(store: FakeEventStore) -> None:
    first = call(load_event("api_post_event"))
    again = call(load_event("api_post_event"))
    assert again == first
    assert len(store.events) == 1


@pytest.mark.usefixtures("installed")
def test_post_event_same_key_other_body_is_409() -> None:
    call(load_event("api_post_event"))
    event = load_event("api_post_event")
    request = json.loads(event["body"])
    request["priority"] = 1
    event["body"] = json.dumps(request)

    status, body = call(event)

    assert status == 409
    assert body["errors"][0]["loc"] == ["header", "Idempotency-Key"]


@pytest.mark.usefixtures("installed")
def test_post_event_invalid_body_is_422_naming_the_field(store: FakeEventStore) -> None:
    event = load_event("api_post_event")
    request = json.loads(event["body"])
    request["payload"]["user"][1] = "not-a-uuid"
    event["body"] = json.dumps(request)

    status, body = call(event)

    assert status == 422
    assert [error["loc"] for error in body["errors"]] == [["body", "payload", "user", 1]]
    assert body["errors"][0]["msg"] == "is not a valid UUID"
    assert store.events == {}


@pytest.mark.usefixtures("installed")
def test_post_event_unknown_movie_is_422(store: FakeEventStore) -> None:
    store.movies.clear()

    status, body = call(load_event("api_post_event"))

    assert status == 422
    assert body["errors"][0]["loc"] == ["body", "payload", "content", 0]


@pytest.mark.usefixtures("installed")
def test_post_event_not_json_is_422() -> None:
    event = load_event("api_post_event")
    event["body"] = "{not json"

    status, body = call(event)

    assert status == 422
    assert "the body is not valid JSON" in [error["msg"] for error in body["errors"]]


@pytest.mark.usefixtures("installed")
def test_post_event_storage_down_is_503(store: FakeEventStore) -> None:
    store.down = True

    status, body = call(load_event("api_post_event"))

    assert status == 503
    assert body["errors"][0]["msg"] == "temporarily unavailable, retry"


@pytest.mark.usefixtures("installed")
def test_get_event_unknown_is_404() -> None:
    status, body = call(load_event("api_get_event"))
    assert status == 404
    assert body["errors"][0]["loc"] == ["path"]


@pytest.mark.usefixtures("installed")
def test_get_event_shows_the_accepted_event() -> None:
    _, accepted = call(load_event("api_post_event"))
    event = load_event("api_get_event")
    event["path"] = f"/events/{accepted['event_id']}"
    event["pathParameters"] = {"event_id": accepted["event_id"]}

    status, body = call(event)

    assert status == 200
    assert body["event_id"] == accepted["event_id"]
    assert body["event_type"] == "new_episode"
    assert body["priority"] == 7
    assert body["counts"] == {"queued": 4}


HEALTHY = {
    "status": "ok",
    "database": "ok",
    "broker": "ok",
    "outbox": {"parked": 0},
    "oldest_queued_s": None,
    "dead_letters": {},
}


@pytest.mark.usefixtures("installed")
def test_health_is_ok_when_store_and_broker_answer() -> None:
    assert call(load_event("api_health")) == (200, HEALTHY)


@pytest.mark.usefixtures("installed")
def test_health_shows_the_oldest_queued_row_and_the_dead_letters(
    store: FakeEventStore, installed: Services
) -> None:
    waiting = Row(queued_at=datetime.now(UTC) - timedelta(minutes=7))
    store.rows[(uuid.uuid4(), Channel.EMAIL, uuid.uuid4())] = waiting
    installed.dead_letters = FakeDeadLetters({"notify-email-high": [b"{}", b"{}"]})

    status, body = call(load_event("api_health"))

    assert (status, body["dead_letters"]) == (200, {"notify-email-high-dlq": 2})
    assert 420 <= body["oldest_queued_s"] < 430


@pytest.mark.usefixtures("installed")
def test_health_answers_from_its_cache_within_the_cache_period(
    store: FakeEventStore, publisher: FakePublisher
) -> None:
    first = call(load_event("api_health"))
    store.down = publisher.down = True  # not probed again for health_cache_seconds (5 s)

    assert call(load_event("api_health")) == first == (200, HEALTHY)


@pytest.mark.usefixtures("installed")
def test_health_is_degraded_when_the_broker_is_down(publisher: FakePublisher) -> None:
    publisher.down = True

    status, body = call(load_event("api_health"))

    assert status == 503
    assert body == {
        "status": "degraded",
        "database": "ok",
        "broker": "unavailable: BrokerUnavailable",
        "outbox": {"parked": 0},
        "oldest_queued_s": None,
    }
