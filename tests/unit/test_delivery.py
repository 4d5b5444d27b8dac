import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from notify.channels import Channel, EventType
from notify.delivery import DeliveryReport, deliver_message
from notify.errors import PermanentError, RetryableError
from notify.models import Content, NotificationMessage, Recipient
from notify.ports import Rendered
from notify.rendering import TemplateRenderer
from tests.fakes import FakeLedger, FakeSender
from tests.unit.builders import NOW, message, recipient

LEASE_S = 900


@dataclass
class StubRenderer:
    """Renders '<user_id>' so a test can tell whose message was sent."""

    calls: list[tuple[EventType, Channel, uuid.UUID]] = field(default_factory=list)

    def render(self, event_type: EventType, channel: Channel, user: Recipient, content: Any) -> Rendered:
        self.calls.append((event_type, channel, user.user_id))
        return Rendered(text=str(user.user_id), subject="subject")


def emails(*addresses: str) -> list[Recipient]:
    return [recipient(email=address) for address in addresses]


def ledger_for(msg: NotificationMessage) -> FakeLedger:
    ledger = FakeLedger()
    ledger.add(msg.event_id, msg.transport_type, [user.user_id for user in msg.payload.user])
    return ledger


def deliver(
    msg: NotificationMessage, ledger: FakeLedger, sender: FakeSender, *, final_attempt: bool = False
) -> DeliveryReport:
    return deliver_message(
        msg,
        ledger=ledger,
        sender=sender,
        renderer=StubRenderer(),
        now=NOW,
        lease_s=LEASE_S,
        final_attempt=final_attempt,
    )


def test_deliver_message_sends_each_claimed_recipient_once() -> None:
    msg = message(emails("a@example.com", "b@example.com", "c@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    assert sorted(address for address, _ in sender.sent) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert [rendered.text for _, rendered in sender.sent] == [str(u.user_id) for u in msg.payload.user]
    assert report.sent == [u.user_id for u in msg.payload.user]
    assert report.failed == report.already_handled == []
    assert set(ledger.statuses().values()) == {"sent"}
    assert all(row.sent_at == NOW and row.attempts == 1 for row in ledger.rows.values())


def test_deliver_message_renders_with_the_real_templates() -> None:
    msg = message(emails("a@example.com"), movies=[Content(movie_id=uuid.uuid4(), title="Dune", season=1)])
    ledger, sender = ledger_for(msg), FakeSender()
    deliver_message(
        msg,
        ledger=ledger,
        sender=sender,
        renderer=TemplateRenderer(),
        now=NOW,
        lease_s=1,
        final_attempt=False,
    )
    [(address, rendered)] = sender.sent
    assert address == "a@example.com"
    assert rendered.subject == "New episode: «Dune», season 1"
    assert rendered.html is not None
    assert "«Dune», season 1" in rendered.html


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


def test_deliver_message_does_not_resend_while_another_attempt_holds_the_lease() -> None:
    msg = message(emails("a@example.com"))
    ledger, sender = ledger_for(msg), FakeSender()
    assert ledger.claim(msg.event_id, Channel.EMAIL, [msg.payload.user[0].user_id], NOW, LEASE_S)

    report = deliver(msg, ledger, sender)

    assert sender.sent == []
    assert report.already_handled == [msg.payload.user[0].user_id]


def test_deliver_message_permanent_error_fails_only_that_recipient() -> None:
    msg = message(emails("a@example.com", "bad@example.com", "c@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"bad@example.com": PermanentError("ses: MessageRejected")})

    report = deliver(msg, ledger, sender)

    bad = msg.payload.user[1].user_id
    assert [address for address, _ in sender.sent] == ["a@example.com", "c@example.com"]
    assert report.failed == [bad]
    assert len(report.sent) == 2
    row = ledger.rows[(msg.event_id, Channel.EMAIL, bad)]
    assert (row.status, row.reason, row.error) == ("failed", "rejected", "ses: MessageRejected")
    assert [s for u, s in ledger.statuses().items() if u != bad] == ["sent", "sent"]


def test_deliver_message_retryable_error_releases_unsent_and_reraises() -> None:
    msg = message(emails("a@example.com", "b@example.com", "c@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"b@example.com": RetryableError("ses: Throttling")})

    with pytest.raises(RetryableError, match="Throttling"):
        deliver(msg, ledger, sender)

    first, second, third = (u.user_id for u in msg.payload.user)
    assert [address for address, _ in sender.sent] == ["a@example.com"]
    assert ledger.statuses() == {first: "sent", second: "retrying", third: "retrying"}
    assert ledger.rows[(msg.event_id, Channel.EMAIL, second)].error == "ses: Throttling"
    assert ledger.rows[(msg.event_id, Channel.EMAIL, third)].reason is None


def test_deliver_message_retry_after_retryable_error_sends_only_the_rest() -> None:
    msg = message(emails("a@example.com", "b@example.com", "c@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(errors=[RetryableError("blip")])
    with pytest.raises(RetryableError):
        deliver(msg, ledger, sender)
    assert sender.sent == []

    report = deliver(msg, ledger, sender)

    assert sorted(address for address, _ in sender.sent) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert len(report.sent) == 3
    assert all(row.attempts == 2 for row in ledger.rows.values())


def test_deliver_message_final_attempt_marks_unsent_retries_exhausted() -> None:
    msg = message(emails("a@example.com", "b@example.com", "c@example.com"))
    ledger = ledger_for(msg)
    sender = FakeSender(fail_addresses={"b@example.com": RetryableError("ses: ServiceUnavailable")})

    with pytest.raises(RetryableError):
        deliver(msg, ledger, sender, final_attempt=True)

    first, second, third = (u.user_id for u in msg.payload.user)
    assert ledger.statuses() == {first: "sent", second: "failed", third: "failed"}
    for user_id in (second, third):
        row = ledger.rows[(msg.event_id, Channel.EMAIL, user_id)]
        assert (row.reason, row.error) == ("retries_exhausted", "ses: ServiceUnavailable")


def test_deliver_message_recipient_without_address_fails_no_contact() -> None:
    msg = message([recipient(email=None, phone="+79161234567"), recipient(email="b@example.com")])
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    no_contact = msg.payload.user[0].user_id
    assert [address for address, _ in sender.sent] == ["b@example.com"]
    assert report.failed == [no_contact]
    row = ledger.rows[(msg.event_id, Channel.EMAIL, no_contact)]
    assert (row.status, row.reason) == ("failed", "no_contact")


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
    user_id = msg.payload.user[0].user_id
    ledger.claim(msg.event_id, Channel.EMAIL, [user_id], NOW - timedelta(seconds=LEASE_S + 1), LEASE_S)

    report = deliver(msg, ledger, sender)

    assert report.sent == [user_id]
    assert [address for address, _ in sender.sent] == ["a@example.com"]
