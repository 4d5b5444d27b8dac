"""The minute tick, driven by the EventBridge scheduled event in events/tick.json."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from functions.tick.app import lambda_handler
from notify import bootstrap
from notify.bootstrap import Services
from notify.entrypoints.tick import tick_now
from notify.errors import StorageUnavailable, TickIncomplete
from notify.outbox.ports import OutboundMessage
from notify.scheduling.ports import FiredBatch
from notify.settings import Settings
from notify.tick import LostMessages
from tests.fakes import FakeEventStore, FakeLambdaContext, FakeOptedOutNumbers, FakePublisher, OutboxRow
from tests.unit.builders import load_event


@pytest.fixture
def opted_out() -> FakeOptedOutNumbers:
    return FakeOptedOutNumbers()


@pytest.fixture
def wired(opted_out: FakeOptedOutNumbers) -> Iterator[tuple[FakeEventStore, FakePublisher]]:
    store, publisher = FakeEventStore(), FakePublisher()
    services = Services(Settings(outbox_grace_seconds=30))
    services.use_store(store)
    services.publisher = publisher
    services.opted_out_numbers = opted_out
    bootstrap.install(services)
    yield store, publisher
    bootstrap.install(None)


def stranded(store: FakeEventStore, age: timedelta, queue: str = "notify-email-high") -> OutboundMessage:
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

    assert report == {
        "occurrences_sent": 0,
        "occurrences_skipped_late": 0,
        "released": 0,
        "republished": 2,
        "parked": 0,
        "sms_opted_out_added": 0,
        "fan_out_members": 0,
        "fan_outs_completed": 0,
        "lost_requeued": 0,
        "lost_failed": 0,
        "pruned_outbox": 0,
        "pruned_notifications": 0,
        "pruned_feedback": 0,
    }
    assert sorted(m.message_id for m in publisher.published) == sorted(m.message_id for m in old)
    assert store.unpublished() == [fresh]


def test_tick_with_the_broker_down_keeps_messages(wired: tuple[FakeEventStore, FakePublisher]) -> None:
    store, publisher = wired
    message = stranded(store, timedelta(minutes=5))
    publisher.down = True

    report = lambda_handler(load_event("tick"), FakeLambdaContext())  # type: ignore[arg-type]

    assert report == {
        "occurrences_sent": 0,
        "occurrences_skipped_late": 0,
        "released": 0,
        "republished": 0,
        "parked": 0,
        "sms_opted_out_added": 0,
        "fan_out_members": 0,
        "fan_outs_completed": 0,
        "lost_requeued": 0,
        "lost_failed": 0,
        "pruned_outbox": 0,
        "pruned_notifications": 0,
        "pruned_feedback": 0,
    }
    assert store.unpublished() == [message]


def test_tick_parks_a_message_the_broker_refuses_and_relays_the_ones_behind_it(
    wired: tuple[FakeEventStore, FakePublisher],
) -> None:
    store, publisher = wired
    publisher.max_bytes = 262_144
    refused = OutboundMessage(uuid.uuid4(), "notify-email-high", b"x" * 300_000)
    store.outbox[refused.message_id] = OutboxRow(refused, created_at=datetime.now(UTC) - timedelta(minutes=9))
    behind = [stranded(store, timedelta(minutes=5)), stranded(store, timedelta(minutes=4))]

    report = lambda_handler(load_event("tick"), FakeLambdaContext())  # type: ignore[arg-type]
    again = lambda_handler(load_event("tick"), FakeLambdaContext())  # type: ignore[arg-type]

    assert (report["republished"], report["parked"]) == (2, 1)
    assert (again["republished"], again["parked"]) == (0, 0)  # parked: never retried by itself
    assert [m.message_id for m in publisher.published] == [m.message_id for m in behind]
    assert store.parked() == {refused.message_id: "fake: larger than 262144 bytes"}
    assert store.unpublished() == []


def test_tick_relays_even_when_another_step_fails_then_raises(
    wired: tuple[FakeEventStore, FakePublisher], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, publisher = wired
    old = stranded(store, timedelta(minutes=5))

    def broken(*args: object, **kwargs: object) -> FiredBatch:
        raise StorageUnavailable("postgres: OperationalError")

    monkeypatch.setattr(store, "fire_due", broken)
    monkeypatch.setattr(store, "release_waiting", broken)

    with pytest.raises(TickIncomplete) as failed:
        lambda_handler(load_event("tick"), FakeLambdaContext())  # type: ignore[arg-type]

    assert failed.value.steps == ["schedules", "waiting"]
    assert isinstance(failed.value.__cause__, StorageUnavailable)
    assert [m.message_id for m in publisher.published] == [old.message_id]
    assert store.unpublished() == []


def test_tick_suppresses_the_numbers_opted_out_at_the_carrier_once_an_hour(
    wired: tuple[FakeEventStore, FakePublisher], opted_out: FakeOptedOutNumbers
) -> None:
    store, _ = wired
    opted_out.numbers = ["+15005550099", " +447700900149 "]

    first = lambda_handler(load_event("tick"), FakeLambdaContext())  # type: ignore[arg-type]
    opted_out.numbers.append("+15005550100")
    second = lambda_handler(load_event("tick"), FakeLambdaContext())  # type: ignore[arg-type]

    assert (first["sms_opted_out_added"], second["sms_opted_out_added"]) == (2, 0)
    assert opted_out.calls == 1  # the second tick, within the hour, does not ask the provider
    assert {key: entry.reason for key, entry in store.suppressions.items()} == {
        ("sms", "+15005550099"): "opted_out_sms",
        ("sms", "+447700900149"): "opted_out_sms",
    }


def test_a_row_is_lost_past_the_whole_receive_schedule_of_the_template_and_of_the_local_stack() -> None:
    aws = LostMessages.past_the_receive_schedule(5, 180, 30.0, 60)
    local = LostMessages.past_the_receive_schedule(3, 5, 30.0, 60)

    # 5 x (30 s run + 180 s visibility, longer than each backoff of 10..160 s) + 60 s
    assert (aws.after, aws.attempt_budget) == (timedelta(seconds=1110), 5)
    # (30 + 10) + (30 + 20) + (30 + 40) + 60: the backoffs outlast a 5 s visibility
    assert (local.after, local.attempt_budget) == (timedelta(seconds=220), 3)


def test_the_tick_deletes_what_was_kept_long_enough_in_the_time_it_has(
    wired: tuple[FakeEventStore, FakePublisher],
) -> None:
    store, _ = wired
    now = datetime.now(UTC)
    old, young = stranded(store, timedelta(days=8)), stranded(store, timedelta(days=2))
    store.outbox[old.message_id].published_at = now - timedelta(days=8)
    store.outbox[young.message_id].published_at = now - timedelta(days=2)

    without_time = tick_now()  # no time left past the margin: nothing is deleted
    report = tick_now(lambda: 30.0)

    assert (without_time.pruned_outbox, report.pruned_outbox) == (0, 1)
    assert set(store.outbox) == {young.message_id}
    cutoffs = {kind: round((now - before) / timedelta(days=1)) for kind, before in store.pruned}
    assert cutoffs == {"outbox": 7, "notifications": 90, "feedback": 90}  # the settings' defaults
