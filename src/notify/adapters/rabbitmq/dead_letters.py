"""The RabbitMQ dead-letter queues (`<queue>-dlq`): how many messages each holds, and the redrive."""

from collections.abc import Callable, Sequence

import pika
import pika.exceptions

from notify.adapters.rabbitmq.topology import DELAY_STEPS_S, delay_queue, move_messages
from notify.channels import DEAD_LETTER_SUFFIX
from notify.errors import BrokerUnavailable

_NOT_FOUND = 404


class RabbitDeadLetters:
    """A connection per call: health asks at most every few seconds, a redrive is an operator's."""

    def __init__(self, url: str, queues: Sequence[str]) -> None:
        self._parameters = pika.URLParameters(url)
        self._queues = list(queues)

    def _on_connection[T](self, action: Callable[[pika.BlockingConnection], T]) -> T:
        try:
            connection = pika.BlockingConnection(self._parameters)
            try:
                return action(connection)
            finally:
                if connection.is_open:
                    connection.close()
        except (pika.exceptions.AMQPError, OSError) as error:
            raise BrokerUnavailable(f"rabbitmq: {type(error).__name__}") from error

    @staticmethod
    def _depth(connection: pika.BlockingConnection, name: str) -> int | None:
        """Messages in the queue; None when nobody declared it yet (passive: a probe makes no queue).
        The broker closes the channel on a missing queue, so each queue gets its own."""
        try:
            channel = connection.channel()
            depth = int(channel.queue_declare(name, passive=True).method.message_count)
            channel.close()
            return depth
        except pika.exceptions.ChannelClosedByBroker as error:
            if error.reply_code == _NOT_FOUND:
                return None
            raise

    def depths(self) -> dict[str, int]:
        def count(connection: pika.BlockingConnection) -> dict[str, int]:
            found = {
                q + DEAD_LETTER_SUFFIX: self._depth(connection, q + DEAD_LETTER_SUFFIX) for q in self._queues
            }
            return {name: depth for name, depth in found.items() if depth is not None}

        return self._on_connection(count)

    def backlog(self) -> dict[str, int]:
        def count(connection: pika.BlockingConnection) -> dict[str, int]:
            return {
                queue: sum(
                    self._depth(connection, name) or 0
                    for name in [queue, *(delay_queue(queue, step) for step in DELAY_STEPS_S)]
                )
                for queue in self._queues
            }

        return self._on_connection(count)

    def redrive(self, queue: str) -> int:
        """Move every message of `queue`'s DLQ back to `queue`: each is published (and confirmed)
        before it is acknowledged, so a crash in between leaves it in both, never in neither."""
        if queue not in self._queues:
            raise ValueError(f"no such queue: {queue}")

        def move(connection: pika.BlockingConnection) -> int:
            # At most what it held when asked: a message dead-lettered again meanwhile stays there.
            held = self._depth(connection, queue + DEAD_LETTER_SUFFIX) or 0
            channel = connection.channel()
            channel.confirm_delivery()
            return move_messages(channel, queue + DEAD_LETTER_SUFFIX, queue, limit=held)

        return self._on_connection(move)
