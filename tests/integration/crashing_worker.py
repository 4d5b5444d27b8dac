"""A worker process for test_rabbitmq_topology: takes one message, then exits; a message whose body
is `poison` makes it SIGKILL itself while it holds the message (a crash the broker must count)."""

import os
import signal
import sys
from typing import Any

from notify.adapters.rabbitmq.consumer import RabbitConsumer
from notify.channels import Channel, QueueRouter
from notify_dev.scratch import RABBITMQ_URL


def main(prefix: str, delivered_to: str) -> None:
    def deliver(body: bytes, **_: Any) -> None:
        if body == b"poison":
            os.kill(os.getpid(), signal.SIGKILL)
        with open(delivered_to, "ab") as out:
            out.write(body + b"\n")

    worker = RabbitConsumer(
        RABBITMQ_URL,
        deliver=deliver,
        channels=[Channel.EMAIL],
        router=QueueRouter(prefix),
        max_attempts=5,
        retry_delay_s=lambda attempt: 1,
        message_budget_s=30,
    )
    worker.take_one()
    worker.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
