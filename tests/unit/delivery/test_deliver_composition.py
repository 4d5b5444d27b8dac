"""deliver_message when a message cannot be composed for a recipient (a line break in a header, a
template that fails): that recipient fails for good, with a reason, on the first attempt; it is never
retried and never fails the others. Composed for real: the template renderer and the SES sender, on
moto's in-process SES."""

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from notify.adapters.aws import ProviderConnection
from notify.adapters.email import SesEmailSender
from notify.channels import Channel
from notify.delivery.models import NotificationMessage, Recipient
from notify.delivery.ports import Rendered
from notify.delivery.rendering import TemplateRenderer
from notify_dev.delivering import deliver
from tests.fakes import FakeEventStore
from tests.unit.builders import NOW, content, message, recipient

REGION = "us-east-1"
SOURCE = "notifications@cinema.example"
INJECTED = "Dune\r\nBcc: x@evil.example"

pytestmark = pytest.mark.usefixtures("aws")


@pytest.fixture
def sender() -> SesEmailSender:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SOURCE)
    return SesEmailSender(SOURCE, ProviderConnection(REGION))


def stored(msg: NotificationMessage) -> FakeEventStore:
    store = FakeEventStore()
    store.add_message(msg)
    return store


def outcomes(store: FakeEventStore, msg: NotificationMessage) -> dict[str, tuple[str, str | None]]:
    return {
        str(user.email): (
            store.rows[(msg.event_id, Channel.EMAIL, user.user_id)].status,
            store.rows[(msg.event_id, Channel.EMAIL, user.user_id)].reason,
        )
        for user in msg.payload.user
    }


def sent_to() -> list[str]:
    """The address each raw e-mail SES took was sent to (moto adds the To: header's after it)."""
    return sorted(sent.destinations[0] for sent in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def test_deliver_line_break_in_an_address_fails_that_recipient_only_on_the_first_attempt(
    sender: SesEmailSender,
) -> None:
    good = [recipient(email=f"user{n}@example.com") for n in range(2)]
    msg = message([*good, recipient(email="bob@example.com\r\nBcc: x@evil.example")])
    store = stored(msg)

    report = deliver(msg, store, sender, TemplateRenderer(), now=NOW, final_attempt=False)

    assert outcomes(store, msg) == {
        "user0@example.com": ("sent", None),
        "user1@example.com": ("sent", None),
        "bob@example.com\r\nBcc: x@evil.example": ("failed", "uncomposable"),
    }
    assert report.retrying == []
    assert sent_to() == ["user0@example.com", "user1@example.com"]


def test_deliver_line_break_in_a_title_fails_every_recipient_for_good_and_acknowledges_the_message(
    sender: SesEmailSender,
) -> None:
    """A title stored before the directory refused line breaks: no retry, no dead letter, no mail."""
    msg = message([recipient(email=f"user{n}@example.com") for n in range(3)], movies=[content(INJECTED)])
    store = stored(msg)

    report = deliver(msg, store, sender, TemplateRenderer(), now=NOW, final_attempt=False)  # does not raise

    assert set(outcomes(store, msg).values()) == {("failed", "uncomposable")}
    assert len(report.failed) == 3
    assert report.retrying == []
    assert sent_to() == []


class BrokenForOne:
    """A renderer whose template fails for one recipient's locale."""

    def __init__(self) -> None:
        self.real = TemplateRenderer()

    def render(
        self, event_type: str, channel: Channel, user: Recipient, content: object, version: int = 1
    ) -> Rendered:
        if user.locale == "ru":
            raise KeyError("a template variable the renderer lacks")
        return self.real.render(event_type, channel, user, content)  # type: ignore[arg-type]


def test_deliver_rendering_error_fails_that_recipient_for_good_on_the_first_attempt(
    sender: SesEmailSender,
) -> None:
    msg = message([recipient(email="en@example.com"), recipient(email="ru@example.com", locale="ru")])
    store = stored(msg)

    report = deliver(msg, store, sender, BrokenForOne(), now=NOW, final_attempt=False)

    assert outcomes(store, msg) == {
        "en@example.com": ("sent", None),
        "ru@example.com": ("failed", "render_failed"),
    }
    assert report.retrying == []
    assert sent_to() == ["en@example.com"]
