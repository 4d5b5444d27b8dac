"""GET /stats through the ingest function: the window's figures per channel and event type, and per
channel; a missing, malformed, offset-less or future `since` is a 422 naming it."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from notify.access.ports import Scope
from notify.channels import Channel, EventType
from tests.fakes import EventRecord, FakeEventStore, Row
from tests.unit.api_calls import call, install_fakes, key_with

SINCE = datetime.now(UTC) - timedelta(hours=1)
INSIDE, BEFORE = SINCE + timedelta(minutes=10), SINCE - timedelta(minutes=10)


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore()
    install_fakes(store)
    return store


def event(store: FakeEventStore, event_type: EventType) -> uuid.UUID:
    event_id = uuid.uuid4()
    store.events[event_id] = EventRecord(
        event_id, event_type, SINCE, 5, "accepted", None, 0, 0, [], None, None
    )
    return event_id


def rows(store: FakeEventStore, event_id: uuid.UUID, channel: Channel, *made: Row) -> None:
    for row in made:
        store.rows[(event_id, channel, uuid.uuid4())] = row


def stats(store: FakeEventStore, since: datetime = SINCE) -> Any:
    status, _, answer = call(
        "GET", f"/stats?since={quote(since.isoformat())}", key_with(store, Scope.EVENTS_READ)
    )
    assert status == 200, answer
    return answer


def test_stats_counts_the_window_per_channel_and_event_type(store: FakeEventStore) -> None:
    episode, like = event(store, EventType.NEW_EPISODE), event(store, EventType.COMMENT_LIKED)
    rows(
        store,
        episode,
        Channel.EMAIL,
        Row(status="sent", sent_at=INSIDE),
        Row(status="unconfirmed", sent_at=INSIDE),
        Row(status="delivered", sent_at=INSIDE),
        Row(status="delivered", sent_at=INSIDE),
        Row(status="bounced", sent_at=INSIDE),
        Row(status="complained", sent_at=INSIDE),
        Row(status="skipped", reason="suppressed", screened_at=INSIDE),
        # outside the window, or neither handed over nor suppressed
        Row(status="delivered", sent_at=BEFORE),
        Row(status="skipped", reason="suppressed", screened_at=BEFORE),
        Row(status="skipped", reason="opted_out", screened_at=INSIDE),
        Row(status="failed", reason="rejected"),
        Row(status="queued"),
    )
    rows(store, like, Channel.PUSH, Row(status="sent", sent_at=INSIDE))

    answer = stats(store)

    email = {
        "sent": 2,
        "delivered": 2,
        "bounced": 1,
        "complained": 1,
        "suppressed": 1,
        "bounce_rate": 1 / 6,
        "complaint_rate": 1 / 6,
        # opens and clicks since issue 30 (none here)
        "opened": 0,
        "clicked": 0,
        "open_rate": 0.0,
        "click_rate": 0.0,
    }
    push = {**dict.fromkeys(email, 0), "sent": 1, "bounce_rate": 0.0, "complaint_rate": 0.0}
    assert answer["items"] == [
        {"channel": "email", "event_type": "new_episode", **email},
        {"channel": "push", "event_type": "comment_liked", **push},
    ]
    assert answer["totals"] == {
        "email": email,
        "sms": {**dict.fromkeys(email, 0), "bounce_rate": 0.0, "complaint_rate": 0.0},
        "push": push,
    }
    assert datetime.fromisoformat(answer["since"]) == SINCE
    assert SINCE < datetime.fromisoformat(answer["until"]) <= datetime.now(UTC)


def test_stats_of_an_empty_window_are_zero_with_zero_rates(store: FakeEventStore) -> None:
    rows(store, event(store, EventType.NEW_EPISODE), Channel.SMS, Row(status="sent", sent_at=BEFORE))

    answer = stats(store)

    assert answer["items"] == []
    assert {channel: figures["sent"] for channel, figures in answer["totals"].items()} == {
        "email": 0,
        "sms": 0,
        "push": 0,
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?since=",
        "?since=yesterday",
        "?since=2026-13-01T00:00:00Z",
        "?since=2026-01-01T00:00:00",
        "?since=2999-01-01T00:00:00Z",
    ],
)
def test_stats_refuses_a_bad_since_with_422_naming_it(store: FakeEventStore, query: str) -> None:
    status, _, answer = call("GET", f"/stats{query}", key_with(store, Scope.EVENTS_READ))

    assert status == 422
    assert [error["loc"] for error in answer["errors"]] == [["query", "since"]]


def test_stats_needs_events_read(store: FakeEventStore) -> None:
    status, _, answer = call(
        "GET", "/stats?since=2026-01-01T00:00:00Z", key_with(store, Scope.SUPPRESSIONS_READ)
    )

    assert status == 403
    assert "events:read" in answer["errors"][0]["msg"]
