"""The carrier's SMS opt-outs join the suppression list, synced by the tick at most once an hour."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notify.errors import NotifyError, PermanentError, RetryableError, StorageUnavailable, TickIncomplete
from notify.feedback import opt_outs
from notify.feedback.opt_outs import CLAIM_LEASE, SMS_OPT_OUTS, OptOutReport, SmsOptOuts, sync_sms_opt_outs
from notify.feedback.ports import Suppression
from notify.outbox.ports import OutboundMessage
from notify.tick import run_tick
from tests.fakes import FakeEventStore, FakeOptedOutNumbers, FakePublisher, OutboxRow
from tests.unit.builders import tick_policy

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def ports(store: FakeEventStore, numbers: FakeOptedOutNumbers) -> SmsOptOuts:
    return SmsOptOuts(numbers=numbers, suppressions=store, claims=store)


def tick_over(
    store: FakeEventStore, publisher: FakePublisher, numbers: FakeOptedOutNumbers, now: datetime
) -> Any:
    """The whole tick over the fakes, the opt-out sync included."""
    return run_tick(
        now=now,
        schedules=store,  # type: ignore[arg-type]  # only fire_due is used
        outbox=store,
        publisher=publisher,
        policy=tick_policy(),
        waiting=store,
        opt_outs=ports(store, numbers),
    )


def reasons(store: FakeEventStore) -> dict[tuple[str, str], str]:
    return {key: entry.reason for key, entry in store.suppressions.items()}


def test_sync_sms_opt_outs_suppresses_each_listed_number_in_its_one_spelling() -> None:
    store = FakeEventStore()
    store.suppress([Suppression("sms", "+447700900149", "operator", NOW - HOUR)])
    numbers = FakeOptedOutNumbers(["+15005550099", " +15005550098\n", "+447700900149", "0800 CALL ME"])

    report = sync_sms_opt_outs(ports(store, numbers), now=NOW, every=HOUR)

    assert report == OptOutReport(synced=True, added=2, malformed=1)
    assert reasons(store) == {
        ("sms", "+15005550099"): "opted_out_sms",
        ("sms", "+15005550098"): "opted_out_sms",
        ("sms", "+447700900149"): "operator",  # already suppressed: keeps its first reason
    }
    assert store.suppressions[("sms", "+15005550099")].created_at == NOW
    assert store.syncs[SMS_OPT_OUTS] == (NOW, None)  # ran at NOW, held by nobody


def test_sync_sms_opt_outs_runs_once_within_the_interval_and_again_after_it() -> None:
    store = FakeEventStore()
    numbers = FakeOptedOutNumbers(["+15005550099"])
    sync = ports(store, numbers)

    first = sync_sms_opt_outs(sync, now=NOW, every=HOUR)
    numbers.numbers.append("+15005550098")
    within = [sync_sms_opt_outs(sync, now=NOW + timedelta(minutes=m), every=HOUR) for m in (1, 30, 59)]
    after = sync_sms_opt_outs(sync, now=NOW + HOUR, every=HOUR)

    assert (first.synced, first.added) == (True, 1)
    assert within == [OptOutReport()] * 3
    assert (after.synced, after.added) == (True, 1)
    assert numbers.calls == 2
    assert set(reasons(store)) == {("sms", "+15005550099"), ("sms", "+15005550098")}


def test_sync_sms_opt_outs_claim_held_by_another_tick_is_left_to_it() -> None:
    store = FakeEventStore()
    numbers = FakeOptedOutNumbers(["+15005550099"])
    assert store.claim_sync(SMS_OPT_OUTS, NOW, HOUR, CLAIM_LEASE)  # another tick, still at it

    report = sync_sms_opt_outs(ports(store, numbers), now=NOW + timedelta(minutes=1), every=HOUR)
    late = sync_sms_opt_outs(ports(store, numbers), now=NOW + CLAIM_LEASE, every=HOUR)  # it died

    assert report == OptOutReport()
    assert (late.synced, late.added) == (True, 1)
    assert numbers.calls == 1


@pytest.mark.parametrize(
    "error", [RetryableError("sns:ListPhoneNumbersOptedOut: Throttling (HTTP 400)"), PermanentError("denied")]
)
def test_sync_sms_opt_outs_provider_failure_leaves_the_sync_to_the_next_tick(
    error: NotifyError, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FakeEventStore()
    numbers = FakeOptedOutNumbers(["+15005550099"], errors=[error])
    logged: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(opt_outs.logger, "warning", lambda msg, extra: logged.append((msg, extra)))

    failed = sync_sms_opt_outs(ports(store, numbers), now=NOW, every=HOUR)
    retried = sync_sms_opt_outs(ports(store, numbers), now=NOW + timedelta(minutes=1), every=HOUR)

    assert failed == OptOutReport()
    assert (retried.synced, retried.added) == (True, 1)
    assert numbers.calls == 2
    assert reasons(store) == {("sms", "+15005550099"): "opted_out_sms"}
    [(message, extra)] = logged
    assert extra["error"] == type(error).__name__
    assert "+1500555" not in message + repr(extra)


def test_run_tick_reports_the_opted_out_numbers_and_a_provider_failure_does_not_fail_it() -> None:
    store, publisher = FakeEventStore(), FakePublisher()
    stranded = OutboundMessage(uuid.uuid4(), "notify-email-high", b"{}")
    store.outbox[stranded.message_id] = OutboxRow(stranded, created_at=NOW - timedelta(minutes=5))
    numbers = FakeOptedOutNumbers(["+15005550099", "+15005550098"], errors=[RetryableError("sns: down")])

    def tick(now: datetime) -> Any:
        return tick_over(store, publisher, numbers, now)

    failed = tick(NOW)
    synced = tick(NOW + timedelta(minutes=1))
    later = tick(NOW + timedelta(minutes=2))

    assert (failed.republished, failed.sms_opted_out_added) == (1, 0)
    assert (synced.sms_opted_out_added, later.sms_opted_out_added) == (2, 0)
    assert numbers.calls == 2
    assert [m.message_id for m in publisher.published] == [stranded.message_id]


def test_run_tick_storage_failure_of_the_opt_outs_fails_the_tick_and_leaves_the_sync_due(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, publisher = FakeEventStore(), FakePublisher()
    numbers = FakeOptedOutNumbers(["+15005550099"])

    def broken(entries: object) -> int:
        raise StorageUnavailable("postgres: OperationalError")

    monkeypatch.setattr(store, "suppress", broken)

    with pytest.raises(TickIncomplete) as failed:
        tick_over(store, publisher, numbers, NOW)

    assert failed.value.steps == ["sms_opt_outs"]
    assert store.syncs[SMS_OPT_OUTS] == (None, None)  # not done, not held: the next tick syncs
