"""A provider connection that closes with no answer, against a loopback server (so not a unit test)
that closes it at a chosen moment: after reading the whole request (the provider may have sent:
unconfirmed), before reading any of it (nothing sent: retried), or while idle in the pool (a new
connection is made)."""

import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from notify.adapters.aws import ProviderConnection, forget_clients
from notify.adapters.email import SesEmailSender
from notify.delivery.ports import Rendered
from notify.errors import ProviderTimeout, RetryableError

SOURCE = "notifications@cinema.example"
_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {length}\r\n\r\n{body}"
_ANSWER = (
    b"<SendRawEmailResponse><SendRawEmailResult><MessageId>m-1</MessageId></SendRawEmailResult>"
    b"</SendRawEmailResponse>"
)


@dataclass
class ClosingServer:
    """Answers each connection as `mode` says; counts the requests it read in full."""

    mode: str
    listener: socket.socket = field(default_factory=socket.socket)
    requests_read: int = 0
    connections: int = 0

    def start(self) -> str:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            if self.mode == "reset_before_reading":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            while self._read_request(conn):
                self.requests_read += 1
                if self.mode == "close_after_reading":
                    return
                if self.mode == "reset_after_reading":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                # answer_then_close_idle: one answer, then the connection closes while idle in the pool
                conn.sendall(_OK.replace(b"{length}", str(len(_ANSWER)).encode()).replace(b"{body}", _ANSWER))
                return

    @staticmethod
    def _read_request(conn: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        headers = dict(line.lower().split(b":", 1) for line in head.split(b"\r\n")[1:])
        length = int(headers[b"content-length"])
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return False
            body += chunk
        return True

    def stop(self) -> None:
        self.listener.close()


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[ClosingServer]:
    server = ClosingServer(request.param)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SES", server.start())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    forget_clients()
    yield server
    server.stop()
    forget_clients()


def send(text: str = "New episode") -> str:
    sender = SesEmailSender(SOURCE, ProviderConnection("us-east-1", read_timeout_s=3, connect_timeout_s=3))
    return sender.send("alice@example.com", Rendered(text=text, subject="Dune"))


@pytest.mark.parametrize("provider", ["close_after_reading", "reset_after_reading"], indirect=True)
def test_connection_closed_after_the_whole_request_was_read_is_unconfirmed(provider: ClosingServer) -> None:
    with pytest.raises(ProviderTimeout, match="connection closed after the request was sent"):
        send()

    assert provider.requests_read == 1


@pytest.mark.parametrize("provider", ["reset_before_reading"], indirect=True)
def test_connection_reset_before_the_request_was_written_is_retried(provider: ClosingServer) -> None:
    # A message larger than the socket buffers: the write itself fails on the reset connection.
    with pytest.raises(RetryableError, match="ConnectionClosedError"):
        send("x" * 4_000_000)

    assert provider.requests_read == 0


@pytest.mark.parametrize("provider", ["answer_then_close_idle"], indirect=True)
def test_pooled_connection_the_provider_closed_while_idle_is_not_used(provider: ClosingServer) -> None:
    assert send() == "m-1"
    threading.Event().wait(0.2)  # the server's close reaches this side of the pooled connection

    assert send() == "m-1"
    assert (provider.connections, provider.requests_read) == (2, 2)
