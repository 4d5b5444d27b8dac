"""RabbitMQ: durable queues named as the SQS ones, persistent messages, publisher confirms.

Publishing uses pika's asynchronous connection driven to completion per batch, so a batch
of messages costs one wait for confirms instead of one per message. Every publish is
`mandatory`: a message no queue takes comes back (basic.return) before its confirm, and is
reported refused, not published; so is a nacked one.
"""

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pika
import pika.exceptions
from pika.adapters.select_connection import IOLoop
from pika.spec import Basic

from notify.adapters.rabbitmq.topology import declare_topology
from notify.errors import BrokerUnavailable
from notify.outbox import OutboundMessage, PublishOutcome, Refused

# RabbitMQ closes the channel on a message over its max_message_size (16 MiB by default since 4.0,
# 128 MiB before), failing everything behind it; such a message is refused before it is sent.
RABBITMQ_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


# Topologies declared by this process, so that each new session does not declare them again.
_declared: set[tuple[str, tuple[str, ...]]] = set()
_declared_lock = threading.Lock()


def ensure_topology(parameters: pika.URLParameters, queues: Sequence[str]) -> None:
    """Declare the queues' topology (rabbitmq.topology) once per process, as the worker does."""
    broker = f"{parameters.host}:{parameters.port}{parameters.virtual_host}"
    key = (broker, tuple(queues))
    with _declared_lock:
        if key in _declared:
            return
        connection = pika.BlockingConnection(parameters)
        try:
            declare_topology(connection, queues)
        finally:
            if connection.is_open:
                connection.close()
        _declared.add(key)


def message_properties(message_id: str, headers: dict[str, Any] | None = None, **extra: Any) -> Any:
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        content_type="application/json",
        message_id=message_id,
        headers=headers or {},
        **extra,
    )


class RabbitPublisher:
    def __init__(
        self,
        url: str,
        queues: Sequence[str],
        confirm_timeout_s: float = 30.0,
        max_message_bytes: int = RABBITMQ_MAX_MESSAGE_BYTES,
    ) -> None:
        self._parameters = pika.URLParameters(url)
        self._queues = list(queues)
        self._timeout = confirm_timeout_s
        self._max_message_bytes = max_message_bytes
        self._session: _ConfirmingSession | None = None

    def publish(self, messages: Sequence[OutboundMessage]) -> PublishOutcome:
        too_large = [
            Refused(m.message_id, f"rabbitmq: larger than {self._max_message_bytes} bytes")
            for m in messages
            if len(m.body) > self._max_message_bytes
        ]
        refused_ids = {r.message_id for r in too_large}
        sendable = [m for m in messages if m.message_id not in refused_ids]
        outcome = PublishOutcome(refused=too_large)
        if sendable:
            sent = self._with_session(lambda session: session.publish(sendable, self._timeout))
            outcome.published.extend(sent.published)
            outcome.refused.extend(sent.refused)
        return outcome

    def check(self) -> None:
        self._with_session(lambda session: session.ping(self._timeout))

    def _with_session[T](self, action: Callable[["_ConfirmingSession"], T]) -> T:
        """Run `action` on a live session, reconnecting if the last one closed.

        A connection kept between calls can die while nobody listens (broker restart, missed
        heartbeats while a Lambda is frozen); that shows only once it is used. Then `action`
        runs once more on a new connection: a message may reach the queue twice, which the
        delivery ledger absorbs, but none waits for the outbox tick because of a stale socket.
        """
        reused = self._session is not None and self._session.usable
        if not reused:
            self.close()
        try:
            try:
                if self._session is None:
                    ensure_topology(self._parameters, self._queues)
                    self._session = _ConfirmingSession(self._parameters, self._queues, self._timeout)
                return action(self._session)
            except (pika.exceptions.AMQPConnectionError, OSError):
                if not reused:
                    raise
                self.close()
                self._session = _ConfirmingSession(self._parameters, self._queues, self._timeout)
                return action(self._session)
        except (pika.exceptions.AMQPError, OSError, TimeoutError) as error:
            self.close()
            raise BrokerUnavailable(f"rabbitmq: {type(error).__name__}: {error}") from error

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class _ConfirmingSession:
    """One connection and one confirm-mode channel, driven synchronously."""

    def __init__(self, parameters: pika.URLParameters, queues: list[str], timeout: float) -> None:
        self._ioloop = IOLoop()
        self._channel: Any = None
        self._failure: BaseException | None = None
        self._declared = 0
        self._queues = queues
        self._next_tag = 0
        self._unconfirmed: dict[int, uuid.UUID] = {}  # delivery tag -> message id
        self._outcome = PublishOutcome()
        self._returned: dict[str, str] = {}  # message id -> why no queue took it
        self._ioloop.activate_poller()  # what IOLoop.start() would do; we poll it ourselves
        self._connection = pika.SelectConnection(
            parameters,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_failure,
            on_close_callback=self._on_failure,
            custom_ioloop=self._ioloop,
        )
        self._run_until(lambda: self._declared == len(self._queues), timeout)

    @property
    def usable(self) -> bool:
        return self._failure is None and self._channel is not None and self._channel.is_open

    def _on_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel: Any) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_failure)
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._declare)

    def _declare(self, _frame: Any) -> None:
        # The topology was declared (ensure_topology, blocking, once per process): a publish to a
        # queue that is missing comes back (mandatory) and is refused, never lost.
        self._declared = len(self._queues)

    def ping(self, timeout: float) -> None:
        """One round trip to the broker: a cached connection may have died unnoticed."""
        answered: list[Any] = []
        self._channel.queue_declare(self._queues[0], passive=True, callback=answered.append)
        self._run_until(lambda: bool(answered), timeout)

    def _on_failure(self, _source: Any, reason: Any = None) -> None:
        self._failure = (
            reason if isinstance(reason, BaseException) else pika.exceptions.AMQPError(str(reason))
        )

    def _on_return(self, _channel: Any, method: Any, properties: Any, _body: bytes) -> None:
        # Comes before the message's confirm: the broker routed it nowhere.
        self._returned[str(properties.message_id)] = (
            f"rabbitmq: returned {method.reply_code} {method.reply_text}"
        )

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tags = (
            [tag for tag in self._unconfirmed if tag <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        for tag in tags:
            message_id = self._unconfirmed.pop(tag, None)
            if message_id is None:
                continue
            returned = self._returned.pop(str(message_id), None)
            if isinstance(method, Basic.Nack):
                self._outcome.refused.append(Refused(message_id, "rabbitmq: nacked by the broker"))
            elif returned is not None:
                self._outcome.refused.append(Refused(message_id, returned))
            else:
                self._outcome.published.append(message_id)

    def publish(self, messages: Sequence[OutboundMessage], timeout: float) -> PublishOutcome:
        self._outcome, self._returned = PublishOutcome(), {}
        for message in messages:
            self._channel.basic_publish(
                exchange="",
                routing_key=message.queue,
                body=message.body,
                properties=message_properties(str(message.message_id)),
                mandatory=True,
            )
            self._next_tag += 1
            self._unconfirmed[self._next_tag] = message.message_id
        self._run_until(lambda: not self._unconfirmed, timeout)
        return self._outcome

    def _run_until(self, done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        wake = self._ioloop.call_later(timeout, lambda: None)  # bounds each poll's wait
        try:
            while not done():
                if self._failure is not None:
                    raise self._failure
                if time.monotonic() > deadline:
                    raise TimeoutError("no answer from RabbitMQ in time")
                self._ioloop.poll()
                self._ioloop.process_timeouts()
        finally:
            self._ioloop.remove_timeout(wake)

    def close(self) -> None:
        try:
            if self._connection.is_open:
                self._connection.close()
                self._run_until(lambda: self._connection.is_closed, 5)
        except (pika.exceptions.AMQPError, OSError, TimeoutError):
            pass
        finally:
            self._ioloop.deactivate_poller()
            self._ioloop.close()
