"""The minute tick, driven by the EventBridge scheduled event in events/tick.json."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from functions.tick.app import lambda_handler
from notify import bootstrap
from notify.bootstrap import Services
from notify.ports import OutboundMessage
from notify.settings import Settings
from tests.fakes import FakeEventStore, FakeLambdaContext, FakePublisher, OutboxRow
from tests.unit.builders import load_event


@pytest.fixture
def wired() -> Iterator[tuple[FakeEventStore, FakePublisher]]:
    store, publisher = FakeEventStore(), FakePublisher()
    services = Services(Settings(outbox_grace_seconds=30))
    services.store = store  # type: ignore[assignment]
    services.publisher = publisher
    bootstrap.install(services)
    yield store, publisher
    bootstrap.install(None)


def stranded(store: FakeEventStore, age: timedelta, queue: str = "notify-email-high") -> OutboundMessage:
    import uuid

    message = OutboundMessage(uuid.uuid4(), queue, b"{}")
    store.outbox[message.message_id] = OutboxRow(message, created_at=datetime.now(UTC) - age)
    return message


def test_tick_republishes_stranded_outbox_messages(wired: tuple[FakeEventStore, FakePublisher]) -> None:
    store, publisher = wired
    old = [stranded(store, timedelta(minutes=5)), stranded(store, timedelta(minutes=2), "notify-sms-low")]
    fresh = stranded(store, timedelta(seconds=1))
    event = load_event("tick")
    assert event["detail-type"] == "Scheduled Event"

    report = lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]

    assert report == {"occurrences_sent": 0, "occurrences_skipped_late": 0, "released": 0, "republished": 2}
    assert sorted(m.message_id for m in publisher.published) == sorted(m.message_id for m in old)
    assert store.unpublished() == [fresh]


def test_tick_with_the_broker_down_keeps_messages(wired: tuple[FakeEventStore, FakePublisher]) -> None:
    store, publisher = wired
    message = stranded(store, timedelta(minutes=5))
    publisher.down = True

    report = lambda_handler(load_event("tick"), FakeLambdaContext())  # type: ignore[arg-type]

    assert report == {"occurrences_sent": 0, "occurrences_skipped_late": 0, "released": 0, "republished": 0}
    assert store.unpublished() == [message]
