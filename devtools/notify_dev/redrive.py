"""`make redrive`: every dead-letter queue's messages moved back to their queue (or one queue's, QUEUE=…),
on the local stack's SQS or, with BROKER=rabbitmq, on the local RabbitMQ. Prints what moved as JSON.

A redriven message whose recipients were meanwhile sent (the tick takes back rows whose message was
lost) delivers nothing twice: the senders claim only rows that are not final."""

from __future__ import annotations

from notify.adapters.rabbitmq.dead_letters import RabbitDeadLetters
from notify.adapters.sqs_dead_letters import SqsDeadLetters
from notify.channels import all_queue_names
from notify.health import DeadLetters
from notify_dev.endpoints import RABBITMQ_URL, aws, load_endpoints


def dead_letters(broker: str) -> tuple[DeadLetters, list[str]]:
    endpoints = load_endpoints()
    queues = all_queue_names(endpoints.get("queue_prefix", "notify"))
    if broker == "rabbitmq":
        return RabbitDeadLetters(endpoints.get("rabbitmq_url", RABBITMQ_URL), queues), queues
    sqs = aws("sqs", endpoints["localstack_url"], endpoints["region"])
    return SqsDeadLetters(endpoints["region"], queues, client=sqs), queues


def redrive(broker: str = "sqs", queue: str | None = None) -> dict[str, int]:
    """Messages moved back, by queue (only queues whose DLQ held some)."""
    store, queues = dead_letters(broker)
    moved = {name: store.redrive(name) for name in ([queue] if queue else queues)}
    return {name: count for name, count in moved.items() if count}
