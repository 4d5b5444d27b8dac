"""Queue entry points: one SQS batch (a sender Lambda) or one RabbitMQ message (the worker)."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from notify.backoff import retry_delay_s
from notify.bootstrap import services
from notify.channels import Channel
from notify.delivery import (
    DeliveryPorts,
    DeliveryReport,
    NotificationMessage,
    SendPools,
    TimeLeft,
    deliver_message,
)
from notify.entrypoints.metrics import delivery_counts, emit_counts
from notify.errors import PermanentError, RetryableError
from notify.logs import service_logger

logger = service_logger()
_MESSAGE_THREADS = SendPools(name="message")  # no thread starts until a batch needs one


def deliver_body(body: str | bytes, *, channel: Channel, attempt: int, time_left: TimeLeft) -> DeliveryReport:
    """Parse one queue message and deliver it on `channel`; `attempt` counts from 1 and
    `time_left` says how many seconds the invocation has left."""
    try:
        message = NotificationMessage.model_validate_json(body)
    except ValidationError as error:
        raise PermanentError(f"malformed message: {error.error_count()} problem(s)") from error
    if message.transport_type != channel:
        raise PermanentError(f"a {message.transport_type} message on the {channel} queue")
    ctx = services()
    report = DeliveryReport()
    try:
        deliver_message(
            message,
            ports=DeliveryPorts(
                ledger=ctx.ledger,
                sender=ctx.sender(channel),
                renderer=ctx.renderer,
                controls=ctx.controls,
                suppressions=ctx.suppressions,
                outbox=ctx.outbox,
                publisher=ctx.publisher,
                send_pools=ctx.send_pools,
            ),
            policy=ctx.delivery_policy,
            now=datetime.now(UTC),
            time_left=time_left,
            final_attempt=attempt >= ctx.settings.max_receives,
            report=report,
        )
    finally:
        # What was sent counts even when the message goes back to its queue for the rest.
        emit_counts(delivery_counts(report), channel=str(channel), event_type=str(message.event_type))
    logger.info(
        "message delivered",
        extra={
            "event_id": str(message.event_id),
            "channel": str(channel),
            "sent": len(report.sent),
            "unconfirmed": len(report.unconfirmed),
            "failed": len(report.failed),
            "already_handled": len(report.already_handled),
            "held_back": len(report.held_back),
            "handed_back": len(report.handed_back),
        },
    )
    return report


class MessagesAtOnce(BatchProcessor):
    """An SQS batch processor that handles `at_once` records at the same time (in order of start;
    each record's outcome is its own, as with BatchProcessor). Their sends share the environment's
    send pool, so the provider stays busy while a message claims, screens or records its rows."""

    def __init__(self, at_once: int) -> None:
        super().__init__(event_type=EventType.SQS)
        self.at_once = at_once

    def process(self) -> list[tuple[Any, ...]]:
        if self.at_once <= 1 or len(self.records) <= 1:
            return super().process()
        # The environment's own message threads, kept from batch to batch: each thread keeps its
        # outcome writer's connection (WriterConnections), and new threads would open new ones.
        return list(_MESSAGE_THREADS.pool(self.at_once).map(self._process_record, self.records))


def handle_sqs_batch(
    event: dict[str, Any], context: LambdaContext, channel: Channel
) -> PartialItemFailureResponse:
    """Deliver an SQS batch; only the records that failed go back to the queue."""
    processor = MessagesAtOnce(services().settings.messages_at_once)

    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    def record_handler(record: SQSRecord) -> None:
        attempt = int(record.attributes.approximate_receive_count)
        try:
            deliver_body(record.body, channel=channel, attempt=attempt, time_left=seconds_left)
        except RetryableError as error:
            delay = error.retry_after_s if error.retry_after_s is not None else retry_delay_s(attempt)
            services().retry_delay.defer(record.event_source_arn, record.receipt_handle, delay)
            raise

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
