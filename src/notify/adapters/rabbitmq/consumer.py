"""RabbitMQ consumption: the loop behind the worker (`python -m notify.entrypoints.worker`), the
design's long-running consumer and the stand-in for Lambda's MQ trigger. It hands each message
to the same code the send functions run.

Queues are read strictly by urgency: a normal-tier message is taken only when every
high-tier queue is empty, a low-tier one only when the normal ones are empty too.
A failed message is parked in the delay queue of its backoff step (rabbitmq.topology), and
after the last attempt moved to its dead-letter queue; it is acknowledged only after that
publish is confirmed, so nothing is lost between the two. A message that crashes the worker
is counted by its quorum queue and dead-lettered past the delivery limit.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pika
import pika.exceptions

from notify.adapters.rabbitmq.publisher import message_properties
from notify.adapters.rabbitmq.topology import declare_topology, delay_queue, delay_step_s
from notify.channels import DEAD_LETTER_SUFFIX, Channel, QueueRouter
from notify.errors import PermanentError, RetryableError
from notify.logs import service_logger

logger = service_logger()

Deliver = Callable[..., object]


class RabbitConsumer:
    def __init__(
        self,
        url: str,
        *,
        deliver: Deliver,
        channels: Sequence[Channel],
        router: QueueRouter,
        max_attempts: int,
        retry_delay_s: Callable[[int], float],
        message_budget_s: float,
        idle_wait_s: float = 0.2,
    ) -> None:
        self._parameters = pika.URLParameters(url)
        self._deliver = deliver
        self._queues = router.queues_by_urgency(channels)
        self._max_attempts = max_attempts
        self._retry_delay_s = retry_delay_s
        self._idle_wait_s = idle_wait_s
        self._message_budget_s = message_budget_s
        self._connection: Any = None
        self._channel: Any = None
        self.stopping = threading.Event()

    def _ensure_channel(self) -> Any:
        if self._channel is None or not self._channel.is_open:
            self.close()
            self._connection = pika.BlockingConnection(self._parameters)
            declare_topology(self._connection, [queue for queue, _ in self._queues])
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
        return self._channel

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                self._connection.close()
        self._connection = self._channel = None

    def take_one(self) -> bool:
        """Handle the most urgent waiting message, if any; say whether there was one."""
        amqp = self._ensure_channel()
        for queue, channel in self._queues:
            method, properties, body = amqp.basic_get(queue, auto_ack=False)
            if method is not None:
                self._handle(amqp, queue, channel, method, properties, body)
                return True
        return False

    def _handle(
        self, amqp: Any, queue: str, channel: Channel, method: Any, properties: Any, body: bytes
    ) -> None:
        headers = dict(properties.headers or {})
        attempt = int(headers.get("x-attempt", 1))
        message_id = properties.message_id or ""
        # A worker has no invocation deadline: each message gets a budget of its own, which
        # bounds its claims' leases as a Lambda's timeout bounds them.
        deadline = time.monotonic() + self._message_budget_s
        try:
            self._deliver(
                body, channel=channel, attempt=attempt, time_left=lambda: deadline - time.monotonic()
            )
        except PermanentError as error:
            logger.error(
                "message cannot be delivered; dead-lettered", extra={"queue": queue, "why": str(error)}
            )
            self._park(amqp, queue + DEAD_LETTER_SUFFIX, body, message_id, headers)
        except Exception as error:
            if not isinstance(error, RetryableError):
                logger.exception("unexpected failure; message will be retried", extra={"queue": queue})
            headers["x-attempt"] = attempt + 1
            if attempt >= self._max_attempts:
                self._park(amqp, queue + DEAD_LETTER_SUFFIX, body, message_id, headers)
            else:
                asked = error.retry_after_s if isinstance(error, RetryableError) else None
                delay_s = asked if asked is not None else self._retry_delay_s(attempt)
                self._park(amqp, delay_queue(queue, delay_step_s(delay_s)), body, message_id, headers)
        amqp.basic_ack(method.delivery_tag)

    @staticmethod
    def _park(amqp: Any, queue: str, body: bytes, message_id: str, headers: dict[str, Any]) -> None:
        # Confirmed and mandatory: a queue that is missing raises here, before the original is
        # acknowledged, so the message comes back instead of vanishing.
        amqp.basic_publish(
            exchange="",
            routing_key=queue,
            body=body,
            properties=message_properties(message_id, headers),
            mandatory=True,
        )

    def run(self) -> None:
        backoff = 1.0
        while not self.stopping.is_set():
            try:
                if not self.take_one():
                    self._connection.process_data_events(time_limit=self._idle_wait_s)
                backoff = 1.0
            except (pika.exceptions.AMQPError, OSError) as error:
                logger.warning("broker connection lost; reconnecting", extra={"error": type(error).__name__})
                self.close()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        self.close()
