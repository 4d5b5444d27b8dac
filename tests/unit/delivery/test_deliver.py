import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from notify.channels import Channel, Tier
from notify.delivery.deliver import DeliveryReport
from notify.delivery.dispatch import DispatchPolicy
from notify.delivery.models import Content, NotificationMessage, Recipient
from notify.delivery.ports import Rendered
from notify.delivery.rendering import TemplateRenderer
from notify.errors import (
    NotifyError,
    PermanentError,
    ProviderTimeout,
    RecipientsInFlight,
    RetryableError,
    StorageUnavailable,
)
from notify_dev.delivering import deliver as deliver_with_fakes
from tests.fakes import CountingSender, FakeLedger, FakePublisher, FakeSender
from tests.unit.builders import NOW, message, recipient


@dataclass
class StubRenderer:
    """Renders '<user_id>' so a test can tell whose message was sent."""

    calls: list[tuple[str, Channel, uuid.UUID]] = field(default_factory=list)

    def render(
        self, event_type: str, channel: Channel, user: Recipient, content: Any, version: int = 1
    ) -> Rendered:
        self.calls.append((event_type, channel, user.user_id))
        return Rendered(text=str(user.user_id), subject="subject")


def emails(*addresses: str) -> list[Recipient]:
    return [recipient(email=address) for address in addresses]


def ledger_for(msg: NotificationMessage) -> FakeLedger:
    ledger = FakeLedger()
    ledger.add_message(msg)
    return ledger


def deliver(
    msg: NotificationMessage, ledger: FakeLedger, sender: FakeSender, **options: Any
) -> DeliveryReport:
    return deliver_with_fakes(msg, ledger, sender, StubRenderer(), now=NOW, **options)


def hold(ledger: FakeLedger, msg: NotificationMessage, user: Recipient, until: timedelta) -> None:
    """Another attempt claims `user`'s row, its lease ending `until` from NOW."""
    assert ledger.claim(
        msg.event_id, msg.transport_type, [user.user_id], token=uuid.uuid4(), now=NOW, until=NOW + until
    )


def row_of(ledger: FakeLedger, msg: NotificationMessage, user: Recipient) -> tuple[str, str | None]:
    row = ledger.rows[(msg.event_id, msg.transport_type, user.user_id)]
    return row.status, row.reason


def test_deliver_message_sends_each_claimed_recipient_once() -> None:
    msg = message(emails("a@example.com", "b@example.com", "c@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    assert sorted(address for address, _ in sender.sent) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert sorted(rendered.text for _, rendered in sender.sent) == sorted(
        str(u.user_id) for u in msg.payload.user
    )
    assert sorted(report.sent) == sorted(u.user_id for u in msg.payload.user)
    assert report.failed == report.already_handled == report.handed_back == []
    assert set(ledger.statuses().values()) == {"sent"}
    assert all(row.sent_at == NOW and row.attempts == 1 for row in ledger.rows.values())
    assert all(row.claim_token is None and row.claimed_until is None for row in ledger.rows.values())


def test_deliver_message_renders_with_the_real_templates() -> None:
    msg = message(emails("a@example.com"), movies=[Content(movie_id=uuid.uuid4(), title="Dune", season=1)])
    ledger, sender = ledger_for(msg), FakeSender()

    deliver_with_fakes(msg, ledger, sender, TemplateRenderer(), now=NOW)

    [(address, rendered)] = sender.sent
    assert address == "a@example.com"
    assert rendered.subject == "New episode: «Dune», season 1"
    assert rendered.html is not None
    assert "«Dune», season 1" in rendered.html


def test_deliver_message_runs_sends_concurrently_up_to_the_policy() -> None:
    msg = message(emails(*(f"u{i}@example.com" for i in range(40))))
    ledger, sender = ledger_for(msg), CountingSender(latency_s=0.02)

    report = deliver(msg, ledger, sender, dispatch=DispatchPolicy(concurrency=8, flush_interval_s=0.05))

    assert len(report.sent) == 40
    assert sender.most_in_flight == 8
    assert len(sender.sent) == 40


@pytest.mark.parametrize(("priority", "most_in_flight"), [(1, 3), (5, 8), (9, 8)])
def test_deliver_message_low_tier_sends_with_its_own_concurrency(priority: int, most_in_flight: int) -> None:
    msg = message(emails(*(f"u{i}@example.com" for i in range(40)))).model_copy(update={"priority": priority})
    ledger, sender = ledger_for(msg), CountingSender(latency_s=0.02)

    report = deliver(
        msg,
        ledger,
        sender,
        dispatch=DispatchPolicy(concurrency=8, flush_interval_s=0.05),
        tier_concurrency={Tier.LOW: 3},
    )

    assert len(report.sent) == len(sender.sent) == 40
    assert sender.most_in_flight == most_in_flight


def test_deliver_message_writes_outcomes_in_batches() -> None:
    msg = message(emails(*(f"u{i}@example.com" for i in range(100))))
    ledger, sender = ledger_for(msg), FakeSender()

    deliver(msg, ledger, sender, dispatch=DispatchPolicy(concurrency=4, flush_every=25, flush_interval_s=60))

    assert sum(ledger.writes) == 100
    assert len(ledger.writes) <= 100 // 25 + 4  # each flush carries what has finished by then
    assert max(ledger.writes) >= 25


def test_deliver_message_redelivered_sends_nothing_new() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    deliver(msg, ledger, sender)

    again = deliver(msg, ledger, sender)

    assert len(sender.sent) == 2
    assert again.sent == again.failed == []
    assert sorted(again.already_handled) == sorted(u.user_id for u in msg.payload.user)


def test_deliver_message_skips_recipients_not_in_the_ledger() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = FakeLedger(), FakeSender()
    ledger.add(msg.event_id, Channel.EMAIL, [msg.payload.user[1].user_id])

    report = deliver(msg, ledger, sender)

    assert [address for address, _ in sender.sent] == ["b@example.com"]
    assert report.already_handled == [msg.payload.user[0].user_id]


def test_deliver_message_is_not_acknowledged_while_another_attempt_holds_a_recipient() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    held, free = msg.payload.user
    hold(ledger, msg, held, until=timedelta(seconds=20))

    with pytest.raises(RecipientsInFlight) as raised:
        deliver(msg, ledger, sender)

    assert [address for address, _ in sender.sent] == ["b@example.com"]  # the free one is sent
    assert row_of(ledger, msg, held) == ("sending", None)
    assert row_of(ledger, msg, free) == ("sent", None)
    assert raised.value.retry_after_s == 21  # back when the other attempt's lease has ended


def test_deliver_message_acknowledged_once_the_other_attempt_has_finished() -> None:
    msg = message(emails("a@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    [user] = msg.payload.user
    hold(ledger, msg, user, until=timedelta(seconds=20))
    ledger.rows[(msg.event_id, Channel.EMAIL, user.user_id)].status = "sent"  # it finished

    report = deliver(msg, ledger, sender)

    assert report.already_handled == [user.user_id]
    assert sender.sent == []


def test_deliver_message_permanent_error_fails_only_that_recipient() -> None:
    msg = message(emails("a@example.com", "bad@example.com", "c@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"bad@example.com": PermanentError("ses: MessageRejected")})

    report = deliver(msg, ledger, sender)

    bad = msg.payload.user[1].user_id
    assert sorted(address for address, _ in sender.sent) == ["a@example.com", "c@example.com"]
    assert report.failed == [bad]
    assert len(report.sent) == 2
    failed = ledger.rows[(msg.event_id, Channel.EMAIL, bad)]
    assert (failed.status, failed.reason, failed.error) == ("failed", "rejected", "ses: MessageRejected")
    assert [s for u, s in ledger.statuses().items() if u != bad] == ["sent", "sent"]


def test_deliver_message_tries_a_transient_failure_again_within_the_attempt() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger = ledger_for(msg)
    blips: list[NotifyError] = [RetryableError("ses: ServiceUnavailable"), RetryableError("ses: Throttling")]
    sender = FakeSender(fail_addresses={"b@example.com": blips})

    report = deliver(msg, ledger, sender)

    assert sorted(address for address, _ in sender.sent) == ["a@example.com", "b@example.com"]
    assert sender.calls == 4  # a once, b three times
    assert len(report.sent) == 2
    assert set(ledger.statuses().values()) == {"sent"}


def test_deliver_message_transient_failure_that_persists_defers_the_recipient_outside_the_queue() -> None:
    msg = message(emails("a@example.com", "b@example.com", "c@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"b@example.com": RetryableError("ses: Throttling")})

    report = deliver(msg, ledger, sender, final_attempt=True)  # not raised: the message is done

    first, second, third = (u.user_id for u in msg.payload.user)
    assert sorted(address for address, _ in sender.sent) == ["a@example.com", "c@example.com"]
    assert ledger.statuses() == {first: "sent", second: "deferred", third: "sent"}
    assert report.deferred == [second]
    row = ledger.rows[(msg.event_id, Channel.EMAIL, second)]
    # the tick queues it again from deliver_after: 10 s for a notification just made
    assert (row.reason, row.error, row.deliver_after) == (
        "provider_unavailable",
        "ses: Throttling",
        NOW + timedelta(seconds=10),
    )


@pytest.mark.parametrize(
    ("age", "wait"),
    [
        (timedelta(0), timedelta(seconds=10)),
        (timedelta(minutes=4), timedelta(minutes=2)),
        (timedelta(hours=3), timedelta(minutes=15)),
    ],
)
def test_deliver_message_provider_retry_waits_half_the_notifications_age_within_bounds(
    age: timedelta, wait: timedelta
) -> None:
    msg = message(emails("b@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"b@example.com": RetryableError("ses: ServiceUnavailable")})

    deliver_with_fakes(msg, ledger, sender, StubRenderer(), now=NOW + age)

    [row] = ledger.rows.values()
    assert (row.status, row.deliver_after) == ("deferred", NOW + age + wait)


def test_deliver_message_retry_after_a_deferred_recipient_sends_only_it() -> None:
    msg = message(emails("a@example.com", "b@example.com", "c@example.com"))
    ledger = ledger_for(msg)
    blips: list[NotifyError] = [RetryableError("blip")] * 3
    sender = FakeSender(fail_addresses={"b@example.com": blips})
    deliver(msg, ledger, sender)
    deferred = ledger.rows[(msg.event_id, Channel.EMAIL, msg.payload.user[1].user_id)]
    deferred.status = "queued"  # what the tick does once deliver_after has come

    report = deliver(msg, ledger, sender)

    assert sorted(address for address, _ in sender.sent) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert report.sent == [msg.payload.user[1].user_id]
    assert deferred.attempts == 2


def test_deliver_message_final_attempt_marks_an_unexpected_failure_retries_exhausted() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"b@example.com": KeyError("a bug in the sender")})

    with pytest.raises(RetryableError, match="failed on the last attempt"):  # on to the DLQ
        deliver(msg, ledger, sender, final_attempt=True)

    first, second = (u.user_id for u in msg.payload.user)
    assert ledger.statuses() == {first: "sent", second: "failed"}
    failed = ledger.rows[(msg.event_id, Channel.EMAIL, second)]
    assert (failed.reason, failed.error) == ("retries_exhausted", "unexpected: KeyError")


def test_deliver_message_provider_timeout_is_recorded_unconfirmed_and_not_sent_again() -> None:
    msg = message(emails("a@example.com", "slow@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(
        fail_addresses={"slow@example.com": ProviderTimeout("ses:SendRawEmail: ReadTimeoutError")}
    )

    report = deliver(msg, ledger, sender)

    slow = msg.payload.user[1].user_id
    assert sender.calls == 2  # one call each: the timed-out one is not repeated
    assert report.unconfirmed == [slow]
    row = ledger.rows[(msg.event_id, Channel.EMAIL, slow)]
    assert (row.status, row.reason) == ("unconfirmed", "provider_timeout")
    assert row.error is not None
    assert "may have been delivered" in row.error
    assert row.sent_at == NOW
    again = deliver(msg, ledger, sender)
    assert again.already_handled == [u.user_id for u in msg.payload.user]
    assert sender.calls == 2


def test_deliver_message_unexpected_exception_releases_the_recipient() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"b@example.com": RuntimeError("bug")})

    with pytest.raises(RetryableError):
        deliver(msg, ledger, sender)

    assert row_of(ledger, msg, msg.payload.user[1]) == ("retrying", None)
    assert ledger.rows[(msg.event_id, Channel.EMAIL, msg.payload.user[1].user_id)].error == (
        "unexpected: RuntimeError"
    )


def test_deliver_message_recipient_without_address_fails_no_contact() -> None:
    msg = message([recipient(email=None, phone="+79161234567"), recipient(email="b@example.com")])
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    no_contact = msg.payload.user[0].user_id
    assert [address for address, _ in sender.sent] == ["b@example.com"]
    assert report.failed == [no_contact]
    assert row_of(ledger, msg, msg.payload.user[0]) == ("failed", "no_contact")


@pytest.mark.parametrize(
    ("channel", "field_name", "address"),
    [(Channel.SMS, "phone", "+79161234567"), (Channel.PUSH, "push_token", "fcm-token")],
)
def test_deliver_message_uses_the_channels_contact_field(
    channel: Channel, field_name: str, address: str
) -> None:
    msg = message([recipient(email="not-this@example.com", **{field_name: address})], channel=channel)
    ledger, sender = ledger_for(msg), FakeSender()

    deliver(msg, ledger, sender)

    assert [sent_to for sent_to, _ in sender.sent] == [address]


def test_deliver_message_reclaims_after_the_lease_runs_out() -> None:
    msg = message(emails("a@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    [user] = msg.payload.user
    hold(ledger, msg, user, until=timedelta(seconds=-1))

    report = deliver(msg, ledger, sender)

    assert report.sent == [user.user_id]
    assert [address for address, _ in sender.sent] == ["a@example.com"]


def test_deliver_message_leases_its_claim_until_the_invocation_ends() -> None:
    msg = message(emails("a@example.com"))
    ledger = ledger_for(msg)
    seen: list[Any] = []

    class Peek(FakeSender):
        def send(self, address: str, message: Rendered) -> str:
            row = ledger.rows[(msg.event_id, Channel.EMAIL, msg.payload.user[0].user_id)]
            seen.append(row.claimed_until)
            return super().send(address, message)

    deliver(msg, ledger, Peek(), time_left=lambda: 20.0)

    assert seen == [NOW + timedelta(seconds=25)]  # 20 s left + 5 s slack, not a fixed long lease


class Clock:
    """Time left that runs down by `step` seconds each time it is read."""

    def __init__(self, start: float, step: float) -> None:
        self.left, self.step = start, step

    def __call__(self) -> float:
        self.left -= self.step
        return self.left


def test_deliver_message_hands_back_what_the_time_left_does_not_reach() -> None:
    msg = message(emails(*(f"u{i}@example.com" for i in range(30))))
    ledger, sender, publisher = ledger_for(msg), FakeSender(), FakePublisher()

    report = deliver(
        msg,
        ledger,
        sender,
        time_left=Clock(start=20.0, step=1.0),
        dispatch=DispatchPolicy(concurrency=1, safety_margin_s=8.0, flush_interval_s=0.05),
        publisher=publisher,
    )

    assert 0 < len(report.sent) < 30
    assert len(report.sent) + len(report.handed_back) == 30
    [remainder] = ledger.handed_back
    carried = NotificationMessage.model_validate_json(remainder.body)
    assert [u.user_id for u in carried.payload.user] == report.handed_back
    assert carried.message_id != msg.message_id
    assert (carried.event_id, carried.transport_type, carried.priority) == (
        msg.event_id,
        msg.transport_type,
        msg.priority,
    )
    assert remainder.queue == "notify-email-normal"
    assert all(row_of(ledger, msg, u) == ("queued", None) for u in carried.payload.user)
    assert len(sender.sent) == len(report.sent)


def test_deliver_message_with_no_time_left_hands_back_the_whole_message_unclaimed() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender, time_left=lambda: 3.0)

    assert sender.sent == []
    assert sorted(report.handed_back) == sorted(u.user_id for u in msg.payload.user)
    assert set(ledger.statuses().values()) == {"queued"}
    assert all(row.attempts == 0 for row in ledger.rows.values())
    [remainder] = ledger.handed_back
    assert len(NotificationMessage.model_validate_json(remainder.body).payload.user) == 2


def test_deliver_message_writes_again_after_a_dropped_connection() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.write_errors = [StorageUnavailable("postgres: OperationalError")]

    report = deliver(msg, ledger, sender)

    assert len(report.sent) == 2
    assert set(ledger.statuses().values()) == {"sent"}
    assert len(sender.sent) == 2


def test_deliver_message_keeps_writing_through_a_failover_longer_than_eight_tries() -> None:
    """A database failover of ~15 s fails many writes in a row: they are tried again for as long as
    the invocation has time, so no accepted send is left unrecorded (and sent again later)."""
    msg = message(emails(*(f"u{i}@example.com" for i in range(6))))
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.write_errors = [StorageUnavailable("postgres: failing over")] * 40

    report = deliver(msg, ledger, sender, dispatch=DispatchPolicy(concurrency=2, write_backoff_s=0))

    assert ledger.write_errors == []
    assert len(report.sent) == 6
    assert set(ledger.statuses().values()) == {"sent"}


def test_deliver_message_stops_sending_when_outcomes_cannot_be_recorded_in_the_time_left() -> None:
    msg = message(emails(*(f"u{i}@example.com" for i in range(20))))
    ledger, sender = ledger_for(msg), FakeSender(latency_s=0.01)
    ledger.write_errors = [StorageUnavailable("postgres: down")] * 100_000

    with pytest.raises(StorageUnavailable):
        deliver_within(
            msg,
            ledger,
            sender,
            2.5,
            DispatchPolicy(concurrency=2, flush_every=1, write_backoff_s=0, safety_margin_s=1.0),
        )

    assert len(sender.sent) < 20  # nothing new started once writes kept failing
    unsent = [s for s in ledger.statuses().values() if s == "sending"]
    assert len(unsent) == 20  # nothing recorded: every row waits for its lease to end


def test_deliver_message_reports_only_outcomes_the_ledger_wrote() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger = ledger_for(msg)
    taken_over = msg.payload.user[1]

    class TakenOver(FakeSender):
        def send(self, address: str, message: Rendered) -> str:
            if address == "b@example.com":
                # this attempt's lease ran out and another attempt sent and recorded it meanwhile
                row = ledger.rows[(msg.event_id, Channel.EMAIL, taken_over.user_id)]
                row.status, row.claim_token, row.provider_id = "sent", None, "other-attempt"
            return super().send(address, message)

    report = deliver(msg, ledger, TakenOver())

    assert report.sent == [msg.payload.user[0].user_id]
    assert ledger.rows[(msg.event_id, Channel.EMAIL, taken_over.user_id)].provider_id == "other-attempt"


def test_deliver_message_claims_again_after_a_dropped_connection() -> None:
    """The server dropped the connection under the claim (pg_terminate_backend, a failover): the claim
    is made again in the same attempt. Failing the message instead spends one of its receives, and a
    message whose receives all meet a dropped connection is dead-lettered with its rows still queued,
    which only the tick's lost-message sweep queues again, minutes later (tests/faults test_db_dropped:
    lost 2, and lost 150 here, every lost row ('queued', None, None))."""
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.claim_errors = [StorageUnavailable("postgres: AdminShutdown")] * 3

    report = deliver(msg, ledger, sender)

    assert ledger.claim_errors == []
    assert len(report.sent) == 2
    assert set(ledger.statuses().values()) == {"sent"}
    assert len(sender.sent) == 2


def test_deliver_message_takes_its_own_claim_again_when_the_answer_was_lost() -> None:
    """The claim committed but the connection died before its answer came back: asked again, the
    ledger gives the attempt the rows it already holds (counted once), not 'held by another attempt'."""
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.lost_claim_answers = 1

    report = deliver(msg, ledger, sender)

    assert len(report.sent) == 2
    assert set(ledger.statuses().values()) == {"sent"}
    assert [row.attempts for row in ledger.rows.values()] == [1, 1]
    assert len(sender.sent) == 2


def test_deliver_message_reads_what_is_left_again_after_a_dropped_connection() -> None:
    msg = message(emails("a@example.com", "b@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.pending_errors = [StorageUnavailable("postgres: AdminShutdown")]

    report = deliver(msg, ledger, sender)

    assert ledger.pending_errors == []
    assert len(report.sent) == 2


def test_deliver_message_gives_the_message_back_when_no_claim_can_be_made_in_time() -> None:
    """The database stays down: the claim is tried while a send could still start, then the message
    goes back to its queue with its rows untouched."""
    msg = message(emails(*(f"u{i}@example.com" for i in range(5))))
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.claim_errors = [StorageUnavailable("postgres: down")] * 100_000
    started = time.monotonic()

    with pytest.raises(StorageUnavailable):
        deliver_within(
            msg, ledger, sender, 1.5, DispatchPolicy(concurrency=2, write_backoff_s=0.02, safety_margin_s=1.0)
        )

    assert time.monotonic() - started < 1.5
    assert sender.sent == []
    assert set(ledger.statuses().values()) == {"queued"}
    assert all(row.attempts == 0 for row in ledger.rows.values())


def deliver_within(
    msg: NotificationMessage, ledger: FakeLedger, sender: FakeSender, seconds: float, dispatch: DispatchPolicy
) -> None:
    """deliver() in an invocation that has `seconds` left from now."""
    started = time.monotonic()
    deliver(msg, ledger, sender, dispatch=dispatch, time_left=lambda: seconds - (time.monotonic() - started))
