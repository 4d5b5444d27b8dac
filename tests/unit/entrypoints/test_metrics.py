"""The operator's metrics as CloudWatch EMF documents on stdout, read back the way powertools' docs
test them (capsys, one JSON document per flush): the senders' Sent and Suppressed per message, the
feedback function's Delivered, Bounced and Complained per batch."""

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.feedback.app import lambda_handler as feedback_handler
from notify import bootstrap
from notify.bootstrap import Services
from notify.channels import Channel, EventType
from notify.delivery.models import PreferencesDocument
from notify.entrypoints import tick as tick_module
from notify.entrypoints.metrics import NAMESPACE, emit_counts
from notify.entrypoints.queue import deliver_body, handle_sqs_batch
from notify.entrypoints.tick import tick_now
from notify.errors import RetryableError
from notify.feedback.ports import Suppression
from notify.outbox.ports import OutboundMessage, Refused
from notify.settings import Settings
from notify.tick import TickReport
from notify.workflows import builtin_definitions
from tests.fakes import FakeEventStore, FakeLambdaContext, FakePublisher, FakeSender, Row
from tests.fakes.tables import OutboxRow, seeded_workflows
from tests.unit.builders import EVENTS_DIR, NOW, load_event, message, messages_of, recipient


def emf_documents(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The EMF documents printed since the last read (the log lines are left out)."""
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


def figures(document: dict[str, Any]) -> dict[str, Any]:
    """Each metric's values (EMF: a list, one value per add_metric)."""
    names = [metric["Name"] for metric in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return {name: document[name] for name in names}


class Installed:
    def __init__(self) -> None:
        # no expiry nor digests for the built-ins, as the settings below configure their seeds
        self.store = FakeEventStore(
            workflows=seeded_workflows(builtin_definitions(max_age_s={}, digest_windows_s={}))
        )
        self.sender = FakeSender()
        self.services = Services(Settings(max_receives=5, max_age_seconds={}, digest_window_seconds={}))
        self.services.use_store(self.store)
        self.services.publisher = FakePublisher()
        for channel in Channel:
            self.services._senders[channel] = self.sender


@pytest.fixture
def installed() -> Iterator[Installed]:
    wired = Installed()
    bootstrap.install(wired.services)
    yield wired
    bootstrap.install(None)


def test_emit_counts_prints_one_document_by_channel_and_by_channel_and_event_type(
    capsys: pytest.CaptureFixture[str],
) -> None:
    emit_counts({"Sent": 3, "Suppressed": 0}, channel="sms", event_type="comment_liked")

    [document] = emf_documents(capsys)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE == "Notify"
    assert directive["Dimensions"] == [["channel", "service"], ["channel", "event_type"]]
    assert [(m["Name"], m["Unit"]) for m in directive["Metrics"]] == [
        ("Sent", "Count"),
        ("Suppressed", "Count"),
    ]
    assert (document["channel"], document["event_type"], document["service"]) == (
        "sms",
        "comment_liked",
        "notify",
    )
    assert figures(document) == {"Sent": [3.0], "Suppressed": [0.0]}


def test_emit_counts_of_nothing_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    emit_counts({}, channel="email")

    assert emf_documents(capsys) == []


def test_senders_count_sent_and_suppressed_per_message(
    installed: Installed, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = load_event("sqs_email")  # two messages: alice@example.com, boris@example.ru
    for sent in messages_of(batch):
        installed.store.add_message(sent)
        for user in sent.payload.user:
            installed.store.preferences[user.user_id] = PreferencesDocument(quiet_hours=None)
    installed.store.suppress([Suppression("email", "boris@example.ru", "complaint", NOW)])

    handle_sqs_batch(batch, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    documents = emf_documents(capsys)
    # one document per message, in the order the messages finished (a batch's go at once)
    assert sorted((figures(d) for d in documents), key=json.dumps) == [
        {"Sent": [0.0], "Suppressed": [1.0]},
        {"Sent": [1.0], "Suppressed": [0.0]},
    ]
    assert {(d["channel"], d["event_type"]) for d in documents} == {("email", "new_episode")}


def test_senders_count_what_was_sent_when_the_message_goes_back_to_its_queue(
    installed: Installed, capsys: pytest.CaptureFixture[str]
) -> None:
    users = [recipient(email="ok@example.com"), recipient(email="later@example.com")]
    sent = message(users, channel=Channel.EMAIL, event_type=EventType.NEW_RELEASES_PROMO)
    installed.store.add_message(sent)
    for user in users:
        installed.store.preferences[user.user_id] = PreferencesDocument(quiet_hours=None)
    installed.sender.fail_addresses["later@example.com"] = KeyError("a bug in the sender")

    with pytest.raises(RetryableError, match="released for a later attempt"):
        deliver_body(sent.model_dump_json(), channel=Channel.EMAIL, attempt=1, time_left=lambda: 60.0)

    [document] = emf_documents(capsys)
    assert figures(document) == {"Sent": [1.0], "Suppressed": [0.0]}
    assert document["event_type"] == "new_releases_promo"


def ses_record(kind: str, message_id: str) -> dict[str, Any]:
    event = json.loads((EVENTS_DIR / "ses" / f"{kind}.json").read_text())
    event["mail"]["messageId"] = message_id
    body = json.dumps({"Type": "Notification", "Message": json.dumps(event)})
    return {**load_event("sqs_feedback")["Records"][1], "messageId": str(uuid.uuid4()), "body": body}


def test_feedback_function_counts_the_notifications_its_feedback_moved_by_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = FakeEventStore()
    services = Services(Settings())
    services.use_store(store)
    bootstrap.install(services)
    try:
        for message_id in ("m-delivered", "m-bounced", "m-complained", "m-again"):
            store.rows[(uuid.uuid4(), Channel.EMAIL, uuid.uuid4())] = Row(
                status="sent", provider_id=message_id
            )
        batch = load_event("sqs_feedback")  # the topic check and a bounce of a message nobody sent
        batch["Records"] += [
            ses_record("delivery", "m-delivered"),
            ses_record("bounce", "m-bounced"),
            ses_record("bounce", "m-bounced"),  # a copy: moves nothing
            ses_record("complaint", "m-complained"),
            ses_record("delivery", "m-again"),
            ses_record("complaint", "m-again"),
        ]

        answer = feedback_handler(batch, FakeLambdaContext())  # type: ignore[arg-type]
    finally:
        bootstrap.install(None)

    assert answer == {"batchItemFailures": []}
    [document] = emf_documents(capsys)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["channel", "service"]]
    assert document["channel"] == "email"
    assert figures(document) == {"Delivered": [2.0], "Bounced": [1.0], "Complained": [2.0]}


def test_feedback_function_with_only_the_topic_check_prints_no_metrics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    services = Services(Settings())
    services.use_store(FakeEventStore())
    bootstrap.install(services)
    try:
        batch = load_event("sqs_feedback")
        batch["Records"] = batch["Records"][:1]
        feedback_handler(batch, FakeLambdaContext())  # type: ignore[arg-type]
    finally:
        bootstrap.install(None)

    assert emf_documents(capsys) == []


def test_documents_emitted_by_messages_delivered_at_once_stay_one_per_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A sender delivers the messages of a batch at the same time, and each prints its document when
    it finishes: two prints must not interleave into a line CloudWatch cannot read."""
    threads, each = 8, 300
    everyone_starts = threading.Barrier(threads)

    def emit(n: int) -> None:
        everyone_starts.wait(timeout=5)
        for k in range(each):
            emit_counts({"Sent": n * each + k}, channel="email", event_type="new_episode")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(emit, range(threads)))

    lines = capsys.readouterr().out.splitlines()
    unreadable = [line[:80] for line in lines if not line.startswith("{") or not line.endswith("}")]
    assert unreadable == []
    sent = sorted(json.loads(line)["Sent"][0] for line in lines)
    assert sent == list(range(threads * each))


def test_the_tick_publishes_how_many_messages_wait_parked_in_the_outbox(
    installed: Installed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for queue in ("notify-email-high", "notify-sms-high", "notify-push-low"):
        message = OutboundMessage(uuid.uuid4(), queue, b"{}")
        installed.store.outbox[message.message_id] = OutboxRow(message, created_at=NOW)
    parked = list(installed.store.outbox)[:2]
    installed.store.park([Refused(message_id, "sqs: too large") for message_id in parked], NOW)
    monkeypatch.setattr(tick_module, "run_tick", lambda **_: TickReport(0, 0, 0, 0))
    capsys.readouterr()

    tick_now()

    [document] = emf_documents(capsys)
    [directive] = document["_aws"]["CloudWatchMetrics"]
    # What the template's OutboxParkedAlarm watches: namespace, metric and dimensions alike.
    assert (directive["Namespace"], directive["Dimensions"], document["service"]) == (
        "Notify",
        [["service"]],
        "notify",
    )
    assert figures(document) == {"OutboxParked": [2.0]}
