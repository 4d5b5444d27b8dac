import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from notify import bootstrap
from notify.adapters.postgres.database import WriterConnections
from notify.backoff import retry_delay_s
from notify.bootstrap import Services
from notify.channels import Channel
from notify.delivery.models import NotificationMessage, PreferencesDocument
from notify.delivery.ports import Rendered
from notify.entrypoints.queue import MessagesAtOnce, deliver_body, handle_sqs_batch
from notify.errors import PermanentError, RetryableError
from notify.settings import Settings
from notify.workflows import builtin_definitions
from tests.fakes import (
    CountingSender,
    FakeEventStore,
    FakeLambdaContext,
    FakePublisher,
    FakeRetryDelay,
    FakeSender,
)
from tests.fakes.tables import seeded_workflows
from tests.unit.builders import load_event, messages_of


class Installed:
    """The fakes wired into the installed Services."""

    def __init__(self) -> None:
        # no expiry nor digests for the built-ins, as the settings below configure their seeds
        self.ledger = FakeEventStore(
            workflows=seeded_workflows(builtin_definitions(max_age_s={}, digest_windows_s={}))
        )
        self.publisher = FakePublisher()
        self.senders = {channel: FakeSender() for channel in Channel}
        self.retry_delay = FakeRetryDelay()
        # The sample events are dated: no expiry, digests or quiet hours here, so that these
        # plumbing tests do not depend on the wall clock (the rules have tests of their own).
        self.services = Services(Settings(max_receives=5, max_age_seconds={}, digest_window_seconds={}))
        self.services.use_store(self.ledger)
        self.services.retry_delay = self.retry_delay  # type: ignore[assignment]
        self.services.publisher = self.publisher
        for channel, sender in self.senders.items():
            self.services._senders[channel] = sender

    def seed(self, sqs_event: dict[str, Any]) -> None:
        """Ledger rows for every recipient of the batch, as ingest would have stored them."""
        for message in messages_of(sqs_event):
            self.ledger.add_message(message)
            for user in message.payload.user:
                self.ledger.preferences[user.user_id] = PreferencesDocument(quiet_hours=None)


@pytest.fixture
def installed() -> Iterator[Installed]:
    wired = Installed()
    bootstrap.install(wired.services)
    yield wired
    bootstrap.install(None)


def sent_addresses(sender: FakeSender) -> list[str]:
    return [address for address, _ in sender.sent]


def test_handle_sqs_batch_delivers_both_good_records(installed: Installed) -> None:
    event = load_event("sqs_email")
    installed.seed(event)

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    subjects = {address: rendered.subject for address, rendered in installed.senders[Channel.EMAIL].sent}
    assert subjects == {  # the batch's two messages go at once: in either order
        "alice@example.com": "New episode: «The Long Night», season 2, episode 5",
        "boris@example.ru": "Новая серия: «The Long Night», сезон 2, серия 5",
    }
    assert set(installed.ledger.statuses().values()) == {"sent"}
    assert installed.retry_delay.calls == []


def test_handle_sqs_batch_redelivered_batch_sends_nothing_twice(installed: Installed) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    assert len(installed.senders[Channel.EMAIL].sent) == 2


def test_handle_sqs_batch_provider_outage_defers_the_recipient_and_acknowledges_the_record(
    installed: Installed,
) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    installed.services.settings.max_receives = 3  # the record's third receive: its last
    installed.senders[Channel.EMAIL].fail_addresses["boris@example.ru"] = RetryableError("ses: Throttling")

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    # No receive is spent on the outage: the row waits in the database, the tick queues it again.
    assert response == {"batchItemFailures": []}
    assert installed.retry_delay.calls == []
    assert sent_addresses(installed.senders[Channel.EMAIL]) == ["alice@example.com"]
    [boris] = messages_of(event)[1].payload.user
    row = next(row for (_, _, user), row in installed.ledger.rows.items() if user == boris.user_id)
    assert (row.status, row.reason) == ("deferred", "provider_unavailable")


def test_handle_sqs_batch_record_that_failed_unexpectedly_is_reported_and_deferred(
    installed: Installed,
) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    installed.senders[Channel.EMAIL].fail_addresses["boris@example.ru"] = KeyError("a bug")
    failing = event["Records"][1]

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": failing["messageId"]}]}
    # The record was received 3 times: the backoff of the third attempt.
    assert installed.retry_delay.calls == [(failing["eventSourceARN"], failing["receiptHandle"], 40)]
    assert sent_addresses(installed.senders[Channel.EMAIL]) == ["alice@example.com"]
    [boris] = messages_of(event)[1].payload.user
    assert installed.ledger.statuses()[boris.user_id] == "retrying"


def test_handle_sqs_batch_final_receive_marks_retries_exhausted(installed: Installed) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    installed.services.settings.max_receives = 3
    installed.senders[Channel.EMAIL].fail_addresses["boris@example.ru"] = KeyError("a bug")

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == [
        event["Records"][1]["messageId"]
    ]
    [boris] = messages_of(event)[1].payload.user
    row = next(row for (_, _, user), row in installed.ledger.rows.items() if user == boris.user_id)
    assert (row.status, row.reason) == ("failed", "retries_exhausted")


def test_handle_sqs_batch_record_held_by_another_attempt_comes_back_when_its_lease_ends(
    installed: Installed,
) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    held = messages_of(event)[1]
    [boris] = held.payload.user
    until = datetime.now(UTC) + timedelta(seconds=25)
    installed.ledger.claim(
        held.event_id, Channel.EMAIL, [boris.user_id], token=uuid.uuid4(), now=datetime.now(UTC), until=until
    )

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    failing = event["Records"][1]
    assert response == {"batchItemFailures": [{"itemIdentifier": failing["messageId"]}]}
    [(_, _, delay)] = installed.retry_delay.calls
    assert 24 <= delay <= 26  # the other attempt's lease, not the receive count's backoff
    assert sent_addresses(installed.senders[Channel.EMAIL]) == ["alice@example.com"]


def test_handle_sqs_batch_short_of_time_queues_the_messages_again(installed: Installed) -> None:
    event = load_event("sqs_email")
    installed.seed(event)

    response = handle_sqs_batch(
        event,
        FakeLambdaContext(remaining_ms=3_000),  # type: ignore[arg-type]
        Channel.EMAIL,
    )

    assert response == {"batchItemFailures": []}  # acknowledged: each one is queued again
    assert installed.senders[Channel.EMAIL].sent == []
    requeued = [NotificationMessage.model_validate_json(m.body) for m in installed.publisher.published]
    originals = messages_of(event)
    # the batch's two messages are delivered at once: queued again in either order
    assert sorted((str(m.event_id), [u.user_id for u in m.payload.user]) for m in requeued) == sorted(
        (str(m.event_id), [u.user_id for u in m.payload.user]) for m in originals
    )
    assert {m.queue for m in installed.publisher.published} == {"notify-email-high"}  # priority 8
    assert set(installed.ledger.statuses().values()) == {"queued"}
    assert installed.ledger.unpublished() == []


def test_handle_sqs_batch_malformed_body_is_reported_as_a_failure(installed: Installed) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    event["Records"][0]["body"] = '{"schema_version": 1, "message_id": "nope"}'

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert sent_addresses(installed.senders[Channel.EMAIL]) == ["boris@example.ru"]
    assert installed.retry_delay.calls == []  # a permanent failure is not backed off


def test_handle_sqs_batch_message_for_another_channel_is_a_failure(installed: Installed) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    sms = load_event("sqs_sms")
    event["Records"][0]["body"] = sms["Records"][0]["body"]

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert installed.senders[Channel.SMS].sent == []


@pytest.mark.parametrize(
    ("channel", "addresses"),
    [
        (Channel.SMS, ["+447700900123", "+79161234567"]),
        (Channel.PUSH, ["fcm-token-boris-0001"]),
    ],
)
def test_handle_sqs_batch_delivers_on_each_channel(
    installed: Installed, channel: Channel, addresses: list[str]
) -> None:
    event = load_event(f"sqs_{channel.value}")
    installed.seed(event)

    response = handle_sqs_batch(event, FakeLambdaContext(), channel)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    assert sorted(sent_addresses(installed.senders[channel])) == sorted(addresses)  # sent in parallel
    for other in set(Channel) - {channel}:
        assert installed.senders[other].sent == []


def test_send_email_function_handles_the_sample_event(installed: Installed) -> None:
    from functions.send_email.app import lambda_handler

    event = load_event("sqs_email")
    installed.seed(event)

    response = lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    assert sorted(sent_addresses(installed.senders[Channel.EMAIL])) == [
        "alice@example.com",
        "boris@example.ru",
    ]


def test_deliver_body_rejects_malformed_json_as_permanent(installed: Installed) -> None:
    with pytest.raises(PermanentError, match="malformed message"):
        deliver_body(b"not json", channel=Channel.EMAIL, attempt=1, time_left=lambda: 30.0)
    assert installed.senders[Channel.EMAIL].sent == []


def test_deliver_body_reports_what_it_did(installed: Installed) -> None:
    event = load_event("sqs_sms")
    installed.seed(event)

    report = deliver_body(
        event["Records"][0]["body"].encode(), channel=Channel.SMS, attempt=1, time_left=lambda: 30.0
    )

    assert sorted(report.sent) == sorted(u.user_id for u in messages_of(event)[0].payload.user)
    assert json.loads(event["Records"][0]["body"])["transport_type"] == "sms"


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [(0, 10), (1, 10), (2, 20), (3, 40), (4, 80), (6, 320), (7, 640), (8, 900), (50, 900)],
)
def test_retry_delay_s_grows_and_is_capped(attempt: int, delay: int) -> None:
    assert retry_delay_s(attempt) == delay


def test_retry_delay_s_is_monotonic_with_custom_base_and_cap() -> None:
    delays = [retry_delay_s(attempt, base_s=5, cap_s=60) for attempt in range(1, 10)]
    assert delays == [5, 10, 20, 40, 60, 60, 60, 60, 60]
    assert delays == sorted(delays)


class MeetingSender(FakeSender):
    """Each send waits until `parties` sends are in flight at the same time (at most 2 s)."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.meeting = threading.Barrier(parties)

    def send(self, address: str, message: Rendered) -> str:
        self.meeting.wait(timeout=2)  # BrokenBarrierError when the others never come
        return super().send(address, message)


def test_handle_sqs_batch_delivers_the_messages_of_a_batch_at_once(installed: Installed) -> None:
    event = load_event("sqs_email")  # two messages of one recipient each
    installed.seed(event)
    sender = installed.services._senders[Channel.EMAIL] = MeetingSender(parties=2)

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    assert sorted(sent_addresses(sender)) == ["alice@example.com", "boris@example.ru"]
    assert set(installed.ledger.statuses().values()) == {"sent"}


def test_handle_sqs_batch_delivers_one_message_at_a_time_when_so_configured(installed: Installed) -> None:
    event = load_event("sqs_email")
    installed.seed(event)
    installed.services.settings.messages_at_once = 1
    sender = CountingSender(latency_s=0.05)
    installed.services._senders[Channel.EMAIL] = sender

    response = handle_sqs_batch(event, FakeLambdaContext(), Channel.EMAIL)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    assert len(sender.sent) == 2
    assert sender.most_in_flight == 1


def test_messages_at_once_keep_their_threads_and_so_their_writer_connections_across_batches() -> None:
    """Outcomes are written on each thread's own connection (WriterConnections): the message threads
    are the environment's, so five batches open one connection per thread, not two per batch."""
    connects: list[FakeWriterConnection] = []

    def connect() -> FakeWriterConnection:
        connects.append(FakeWriterConnection())
        return connects[-1]

    writers = WriterConnections(connect)  # type: ignore[arg-type]

    def write_outcomes(record: SQSRecord) -> None:
        with writers.transaction():
            pass

    for _ in range(5):
        process_partial_response(
            event=load_event("sqs_email"),  # two records
            record_handler=write_outcomes,
            processor=MessagesAtOnce(2),
            context=FakeLambdaContext(),  # type: ignore[arg-type]
        )

    assert len(connects) <= 2


class FakeWriterConnection:
    broken = closed = False

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        self.closed = True
