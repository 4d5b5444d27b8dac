"""The send path under real failures: PostgreSQL connections killed while outcomes are written,
and a provider endpoint (a small HTTP server on loopback) that fails or never answers."""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import psycopg
import pytest

from notify.adapters.aws import ProviderConnection, forget_clients
from notify.adapters.email import SesEmailSender
from notify.adapters.postgres import PostgresStore
from notify.channels import Channel
from notify.dispatch import DispatchPolicy
from notify.errors import ProviderTimeout, RetryableError
from notify.models import DirectoryUser, NotificationMessage
from notify.ports import Rendered
from notify.rendering import TemplateRenderer
from tests.delivering import deliver
from tests.fakes import FakeSender
from tests.integration.support import ledger_row, make_user, parse, stored_event

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
APPLICATION = "notify-delivery-under-test"


def email_users(count: int) -> list[DirectoryUser]:
    return [make_user(phone=False, push=False) for _ in range(count)]


def messages_for(store: PostgresStore, users: list[DirectoryUser]) -> list[NotificationMessage]:
    stored = stored_event(store, users, channels=[Channel.EMAIL], chunk_size=100)
    return parse(stored.outbox)


@contextmanager
def killing_connections(dsn: str, every_s: float) -> Iterator[list[int]]:
    """Terminate every backend of APPLICATION every `every_s` seconds; yields the kill counts."""
    kills: list[int] = []
    stop = threading.Event()

    def run() -> None:
        with psycopg.connect(dsn, autocommit=True) as admin:
            while not stop.wait(every_s):
                rows = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                    (APPLICATION,),
                ).fetchall()
                kills.append(len(rows))

    killer = threading.Thread(target=run, daemon=True)
    killer.start()
    try:
        yield kills
    finally:
        stop.set()
        killer.join(timeout=10)


def test_delivery_with_connections_killed_sends_everyone_once(pg_dsn: str, store: PostgresStore) -> None:
    users = email_users(600)
    messages = messages_for(store, users)
    victim = PostgresStore(f"{pg_dsn}?application_name={APPLICATION}", 4, connect_timeout_s=2)
    sender = FakeSender(latency_s=0.02)
    # Short leases (2 s left + 5 s slack), so that a row whose outcome could not be written is
    # taken again soon; the loop plays the queue: a failed message comes back after its delay.
    policy = DispatchPolicy(concurrency=4, safety_margin_s=0.5, flush_interval_s=0.05, write_backoff_s=0.1)
    try:
        with killing_connections(pg_dsn, every_s=0.7) as kills:
            for message in messages:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        deliver(
                            message,
                            victim,
                            sender,
                            TemplateRenderer(),
                            now=datetime.now(UTC),
                            time_left=lambda: 2.0,
                            dispatch=policy,
                        )
                        break
                    except RetryableError as error:
                        assert time.monotonic() < deadline, "the message never got through"
                        time.sleep(min(error.retry_after_s or 0.1, 10))
    finally:
        victim.close()

    assert sum(kills) > 0, "no connection was killed: the test proved nothing"
    per_address = Counter(address for address, _ in sender.sent)
    statuses = Counter(
        ledger_row(pg_dsn, m.event_id, Channel.EMAIL, u.user_id)["status"]
        for m in messages
        for u in m.payload.user
    )
    assert statuses == {"sent": 600}
    # A connection killed after the provider took a message but before its outcome was written
    # is the one case that may send twice (the next attempt finds the row still claimed, then
    # expired). The rows' leases here end with the invocation; count what happened.
    assert set(per_address) == {u.email for u in users}
    duplicates = sum(n - 1 for n in per_address.values())
    assert duplicates <= sum(kills)


class Provider(BaseHTTPRequestHandler):
    """An SES endpoint that answers as told: `mode` is 'unavailable' (503) or 'hang'."""

    mode = "unavailable"
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        type(self).requests.append(self.path)
        if self.mode == "hang":
            time.sleep(2.0)
        body = (
            b"<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code>"
            b"<Message>try later</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        )
        self.send_response(503)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Provider]]:
    Provider.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SES", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    forget_clients()
    try:
        yield Provider
    finally:
        server.shutdown()
        server.server_close()
        forget_clients()


MESSAGE = Rendered(text="hello", subject="hi")
FAST = ProviderConnection("us-east-1", read_timeout_s=0.5, connect_timeout_s=0.5)


def test_ses_sender_makes_one_call_when_the_provider_fails(provider: type[Provider]) -> None:
    provider.mode = "unavailable"

    with pytest.raises(RetryableError, match="ServiceUnavailable"):
        SesEmailSender("from@cinema.example", FAST).send("to@example.com", MESSAGE)

    assert len(provider.requests) == 1  # the SDK does not retry on its own


def test_ses_sender_that_gets_no_answer_says_it_may_have_been_delivered(provider: type[Provider]) -> None:
    provider.mode = "hang"

    with pytest.raises(ProviderTimeout):
        SesEmailSender("from@cinema.example", FAST).send("to@example.com", MESSAGE)

    assert len(provider.requests) == 1


def test_delivery_records_a_send_without_an_answer_as_unconfirmed(
    provider: type[Provider], store: PostgresStore, pg_dsn: str
) -> None:
    provider.mode = "hang"
    [message] = messages_for(store, email_users(1))
    [user] = message.payload.user

    report = deliver(message, store, SesEmailSender("from@cinema.example", FAST), TemplateRenderer(), now=NOW)

    assert report.unconfirmed == [user.user_id]
    row = ledger_row(pg_dsn, message.event_id, Channel.EMAIL, user.user_id)
    assert (row["status"], row["reason"]) == ("unconfirmed", "provider_timeout")
    assert "may have been delivered" in str(row["error"])
    assert len(provider.requests) == 1
