"""The RabbitMQ topology on the real broker (scratch queues): a delay queue per backoff step, crashes
counted by the quorum queue, and the classic queues of an older release replaced without a loss."""

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pika
import pytest

from notify.adapters.rabbitmq.consumer import RabbitConsumer
from notify.adapters.rabbitmq.topology import (
    DELIVERY_LIMIT,
    declare_topology,
    delay_queue,
    delay_step_s,
    queue_arguments,
)
from notify.channels import DEAD_LETTER_SUFFIX, Channel, QueueRouter, Tier, all_queue_names, queue_name
from notify.errors import RetryableError
from notify_dev.scratch import RABBITMQ_URL
from tests.integration.support import bodies

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_a_wait_is_rounded_up_to_a_step() -> None:
    assert [delay_step_s(s) for s in (0.05, 1, 3, 10, 11, 30, 899, 5000)] == [1, 1, 5, 10, 20, 40, 900, 900]


def test_a_short_retry_is_not_held_behind_a_long_one(queue_prefix: str) -> None:
    queue = queue_name(Channel.EMAIL, Tier.HIGH, queue_prefix)
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    declare_topology(connection, all_queue_names(queue_prefix))
    channel = connection.channel()
    channel.confirm_delivery()
    for body in (b"long", b"short"):  # the long wait is parked first, ahead of the short one
        channel.basic_publish("", queue, body, pika.BasicProperties(message_id=body.decode()))
    connection.close()
    calls: list[bytes] = []

    def deliver(body: bytes, **_: Any) -> None:
        calls.append(body)
        if len(calls) <= 2:
            raise RetryableError("later", retry_after_s=900 if body == b"long" else 1)

    worker = RabbitConsumer(
        RABBITMQ_URL,
        deliver=deliver,
        channels=[Channel.EMAIL],
        router=QueueRouter(queue_prefix),
        max_attempts=5,
        retry_delay_s=lambda attempt: 1,
        message_budget_s=30,
    )
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            if not worker.take_one():
                time.sleep(0.05)
    finally:
        worker.close()

    # One queue with per-message TTLs expires only its head: "short" would wait the 900 s of "long".
    assert calls == [b"long", b"short", b"short"]


def test_a_message_that_crashes_the_worker_every_time_ends_in_the_dlq_and_the_others_are_delivered(
    queue_prefix: str, amqp: Any, tmp_path: Path
) -> None:
    queue = queue_name(Channel.EMAIL, Tier.HIGH, queue_prefix)
    declare_topology(amqp.connection, all_queue_names(queue_prefix))
    amqp.confirm_delivery()
    for body in (b"poison", b"one", b"two", b"three"):
        amqp.basic_publish("", queue, body, pika.BasicProperties(message_id=body.decode(), delivery_mode=2))
    delivered = tmp_path / "delivered"
    killed = 0
    for _ in range(DELIVERY_LIMIT + 6):
        run = subprocess.run(
            [
                sys.executable,
                str(ROOT / "tests" / "integration" / "crashing_worker.py"),
                queue_prefix,
                str(delivered),
            ],
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        killed += run.returncode == -signal.SIGKILL
        if delivered.exists() and len(delivered.read_bytes().split()) == 3:
            break

    time.sleep(0.5)  # dead-lettering is asynchronous
    assert sorted(delivered.read_bytes().split()) == [b"one", b"three", b"two"]
    assert bodies(amqp, queue + DEAD_LETTER_SUFFIX) == [b"poison"]
    assert DELIVERY_LIMIT <= killed <= DELIVERY_LIMIT + 1
    assert bodies(amqp, queue) == []


def test_the_classic_queues_of_an_older_release_are_replaced_with_their_messages(
    queue_prefix: str, amqp: Any
) -> None:
    queues = all_queue_names(queue_prefix)
    old = queue_name(Channel.SMS, Tier.NORMAL, queue_prefix)
    amqp.queue_declare(old, durable=True)  # as releases before the quorum queues declared it
    amqp.confirm_delivery()
    for n in range(3):
        amqp.basic_publish("", old, f"waiting {n}".encode(), pika.BasicProperties(delivery_mode=2))
    # The quorum declaration is refused while the classic queue is there.
    refusing = amqp.connection.channel()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        refusing.queue_declare(old, durable=True, arguments=queue_arguments(old))
    assert refused.value.reply_code == 406

    replaced = declare_topology(amqp.connection, queues)
    again = declare_topology(amqp.connection, queues)

    assert (replaced, again) == ([old], [])
    channel = amqp.connection.channel()
    channel.queue_declare(old, durable=True, arguments=queue_arguments(old))  # now a quorum queue
    assert bodies(channel, old) == [b"waiting 0", b"waiting 1", b"waiting 2"]
    assert bodies(channel, delay_queue(old, 10)) == []
