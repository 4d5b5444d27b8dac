"""The RabbitMQ worker (`python -m notify.entrypoints.worker`): consumes the channel queues and
delivers each message as the send functions do, until SIGTERM or SIGINT."""

import argparse
import signal
from collections.abc import Sequence

from notify.adapters.rabbitmq.consumer import RabbitConsumer
from notify.backoff import retry_delay_s
from notify.channels import Channel, QueueRouter
from notify.entrypoints.queue import deliver_body
from notify.logs import service_logger
from notify.settings import get_settings

logger = service_logger()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Deliver notifications from RabbitMQ.")
    parser.add_argument("--channels", default="email,sms,push", help="comma-separated channels to serve")
    args = parser.parse_args(argv)
    settings = get_settings()
    worker = RabbitConsumer(
        settings.rabbitmq_url,
        deliver=deliver_body,
        channels=[Channel(name) for name in args.channels.split(",") if name],
        router=QueueRouter(settings.queue_prefix),
        max_attempts=settings.max_receives,
        retry_delay_s=retry_delay_s,
        message_budget_s=settings.worker_message_budget_seconds,
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stopping.set())
    logger.info("worker started", extra={"channels": args.channels})
    worker.run()


if __name__ == "__main__":
    main()
