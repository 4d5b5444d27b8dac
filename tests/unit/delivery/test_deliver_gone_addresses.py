"""deliver_message when the provider says an address is gone for good (a disabled push endpoint)."""

from notify.channels import Channel
from notify.delivery.models import NotificationMessage
from notify.delivery.ports import Rendered
from notify.errors import AddressGone
from notify.feedback.ports import Suppression
from notify_dev.delivering import deliver
from tests.fakes import FakeEventStore, FakeSender
from tests.unit.builders import NOW, message, recipient

GONE = AddressGone("endpoint is disabled", "endpoint_disabled")


class PlainRenderer:
    def render(
        self, event_type: str, channel: Channel, user: object, content: object, version: int = 1
    ) -> Rendered:
        return Rendered(text="hi", subject="s")


def push_message(tokens: list[str]) -> tuple[NotificationMessage, FakeEventStore]:
    msg = message([recipient(push_token=t) for t in tokens], channel=Channel.PUSH)
    store = FakeEventStore()
    store.add_message(msg)
    return msg, store


def outcome(store: FakeEventStore, msg: NotificationMessage, token: str) -> tuple[str, str | None]:
    [user] = [u for u in msg.payload.user if u.push_token == token]
    row = store.rows[(msg.event_id, Channel.PUSH, user.user_id)]
    return row.status, row.reason


def test_deliver_message_gone_address_fails_the_recipient_and_suppresses_the_token() -> None:
    msg, store = push_message(["dead-token", "live-token"])
    sender = FakeSender(fail_addresses={"dead-token": GONE})

    deliver(msg, store, sender, PlainRenderer(), now=NOW, controls=store, suppressions=store)

    assert outcome(store, msg, "dead-token") == ("failed", "endpoint_disabled")
    assert outcome(store, msg, "live-token") == ("sent", None)
    assert store.find_suppression("push", "dead-token") == Suppression(
        "push", "dead-token", "endpoint_disabled", NOW
    )
    assert store.find_suppression("push", "live-token") is None


def test_deliver_message_after_a_gone_address_sends_nothing_more_to_it() -> None:
    first, store = push_message(["dead-token"])
    sender = FakeSender(fail_addresses={"dead-token": GONE})
    deliver(first, store, sender, PlainRenderer(), now=NOW, controls=store, suppressions=store)
    calls = sender.calls
    second = message(first.payload.user, channel=Channel.PUSH)
    store.add_message(second)

    deliver(second, store, sender, PlainRenderer(), now=NOW, controls=store, suppressions=store)

    assert sender.calls == calls  # the provider is not asked again
    assert outcome(store, second, "dead-token") == ("skipped", "suppressed")


def test_deliver_message_gone_address_still_fails_when_the_suppression_cannot_be_stored() -> None:
    msg, store = push_message(["dead-token"])
    sender = FakeSender(fail_addresses={"dead-token": GONE})

    class DownSuppressions(FakeEventStore):
        def suppress(self, entries: object) -> int:
            raise ConnectionError("database gone")

    deliver(msg, store, sender, PlainRenderer(), now=NOW, controls=store, suppressions=DownSuppressions())

    assert outcome(store, msg, "dead-token") == ("failed", "endpoint_disabled")
    assert store.find_suppression("push", "dead-token") is None
