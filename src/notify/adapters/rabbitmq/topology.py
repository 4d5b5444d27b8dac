"""The queues behind one channel-and-tier queue on RabbitMQ, declared the same way by the publisher
and the worker:

- the queue itself, a quorum queue: a message that was delivered and never acknowledged (the worker
  crashed, or its connection dropped) counts towards `x-delivery-limit`, past which it is
  dead-lettered (at least once) instead of crashing every worker that takes it;
- one delay queue per backoff step (`<queue>-retry-<N>s`): a queue-level TTL, then dead-lettered back
  into the queue. RabbitMQ expires messages only at the head of a queue, so per-message TTLs in one
  queue made a 10 s retry wait behind a 900 s one; with one TTL per queue the head is always the
  first due. A wait is rounded up to the next step;
- its dead-letter queue (`<queue>-dlq`), for what can never be processed.

A broker that still holds the queue as a classic queue (from before) refuses the quorum declaration
(PRECONDITION_FAILED); `declare_topology` then moves its messages to a temporary quorum queue,
replaces the queue, and moves them back, confirming every publish before acknowledging its source.
"""

from collections.abc import Sequence
from typing import Any

import pika
import pika.exceptions

from notify.channels import DEAD_LETTER_SUFFIX

# Deliveries never acknowledged (the worker crashed holding the message) before it is dead-lettered.
# Fixed, not a setting: every process declaring the queue must declare the same arguments.
DELIVERY_LIMIT = 5
DELAY_STEPS_S = (1, 5, 10, 20, 40, 80, 160, 320, 640, 900)
_PRECONDITION_FAILED = 406
_MOVING_SUFFIX = "-moving"


def delay_queue(queue: str, step_s: int) -> str:
    return f"{queue}-retry-{step_s}s"


def delay_step_s(delay_s: float) -> int:
    """The shortest step that waits at least `delay_s` (the longest step for anything beyond it)."""
    return next((step for step in DELAY_STEPS_S if step >= delay_s), DELAY_STEPS_S[-1])


def queue_arguments(queue: str) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue + DEAD_LETTER_SUFFIX,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",  # what at-least-once dead-lettering requires
    }


def topology(queue: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, arguments) of every queue behind `queue`, the queue first."""
    delays = [
        (
            delay_queue(queue, step),
            {"x-message-ttl": step * 1000, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": queue},
        )
        for step in DELAY_STEPS_S
    ]
    return [(queue, queue_arguments(queue)), *delays, (queue + DEAD_LETTER_SUFFIX, {})]


def declare_topology(connection: pika.BlockingConnection, queues: Sequence[str]) -> list[str]:
    """Declare every queue's topology; replace the classic queues an older release made. Returns the
    queues replaced."""
    replaced = []
    for queue in queues:
        for name, arguments in topology(queue):
            if not _declared(connection, name, arguments):
                if name != queue or not _declared(connection, queue, {}):
                    # not the classic queue of an older release: someone else's, left alone
                    raise RuntimeError(f"RabbitMQ holds {name} with other arguments than {arguments}")
                _replace_classic_queue(connection, queue, arguments)
                replaced.append(queue)
    return replaced


def _declared(connection: pika.BlockingConnection, name: str, arguments: dict[str, Any]) -> bool:
    """Whether the queue is (now) declared with these arguments; False when it exists with others."""
    channel = connection.channel()
    try:
        channel.queue_declare(name, durable=True, arguments=arguments)
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code != _PRECONDITION_FAILED:
            raise
        return False
    channel.close()
    return True


def _replace_classic_queue(
    connection: pika.BlockingConnection, queue: str, arguments: dict[str, Any]
) -> None:
    channel = connection.channel()
    channel.confirm_delivery()
    holding = queue + _MOVING_SUFFIX
    channel.queue_declare(holding, durable=True, arguments={"x-queue-type": "quorum"})
    while True:
        move_messages(channel, queue, holding)
        try:
            channel.queue_delete(queue, if_empty=True)  # a message published meanwhile: move again
            break
        except pika.exceptions.ChannelClosedByBroker as error:
            if error.reply_code != _PRECONDITION_FAILED:
                raise
            channel = connection.channel()
            channel.confirm_delivery()
    channel.queue_declare(queue, durable=True, arguments=arguments)
    channel.close()
    # A new channel: RabbitMQ 3.10 fails a publish (541 INTERNAL_ERROR) on a channel that routed to the
    # classic queue of the same name before it was replaced.
    channel = connection.channel()
    channel.confirm_delivery()
    move_messages(channel, holding, queue)
    channel.queue_delete(holding)
    channel.close()


def move_messages(channel: Any, source: str, target: str, limit: int | None = None) -> int:
    """Move up to `limit` messages (all, without one) from `source` to `target` on a channel in confirm
    mode: each is published, confirmed and mandatory, before its source is acknowledged, so a crash in
    between leaves it in both, never in neither. Returns how many moved."""
    moved = 0
    while limit is None or moved < limit:
        method, properties, body = channel.basic_get(source, auto_ack=False)
        if method is None:
            break
        channel.basic_publish("", target, body, properties, mandatory=True)  # confirmed: it raises if not
        channel.basic_ack(method.delivery_tag)
        moved += 1
    return moved
