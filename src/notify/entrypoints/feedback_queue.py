"""The feedback queue: SES's events (through the e-mail feedback topic) → statuses and suppressions."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.bootstrap import services
from notify.channels import Channel
from notify.entrypoints.metrics import FeedbackTally
from notify.errors import PermanentError
from notify.feedback import FeedbackReport, take_feedback
from notify.logs import service_logger
from notify.ses_events import parse_feedback

logger = service_logger()


def take_body(body: str, tally: FeedbackTally | None = None) -> FeedbackReport:
    """One queue message's feedback, recorded (a StorageUnavailable goes back to the queue) and
    counted in `tally`."""
    ctx = services()
    items = parse_feedback(body)
    report = take_feedback(
        items,
        store=ctx.feedback,
        suppressions=ctx.suppressions,
        now=datetime.now(UTC),
        policy=ctx.suppression_policy,
    )
    if tally is not None:
        tally.add(items, report)
    return report


def handle_feedback_batch(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Record an SQS batch of feedback; only the records that failed go back to the queue. A body
    that is no SES event is logged by its queue message id and dropped: retrying cannot fix it."""
    # A batch that failed whole is answered as failed items too, not as an invocation error.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    tally = FeedbackTally()

    def record_handler(record: SQSRecord) -> None:
        try:
            report = take_body(record.body, tally)
        except PermanentError as error:
            logger.warning(
                "feedback dropped", extra={"sqs_message_id": record.message_id, "error": str(error)}
            )
            return
        if report.received:
            logger.info(
                "feedback recorded",
                extra={
                    "received": report.received,
                    "changed": report.changed,
                    "suppressed": report.suppressed,
                },
            )

    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        tally.emit(str(Channel.EMAIL))  # SES's feedback: e-mail only
