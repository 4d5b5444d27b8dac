"""The feedback queue: SES's events (through the e-mail feedback topic) → statuses and suppressions."""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.bootstrap import services
from notify.channels import Channel
from notify.entrypoints.metrics import FeedbackTally
from notify.errors import PermanentError
from notify.feedback import Feedback, FeedbackReport, parse_feedback, take_feedback
from notify.logs import service_logger

logger = service_logger()


def take_items(items: list[Feedback], tally: FeedbackTally) -> FeedbackReport:
    """A batch's feedback recorded, one write per kind of feedback (a StorageUnavailable goes back to
    the queue), and counted in `tally`."""
    ctx = services()
    now = datetime.now(UTC)
    by_kind: dict[str, list[Feedback]] = {}
    for item in items:
        by_kind.setdefault(str(item.kind), []).append(item)
    received = changed = suppressed = 0
    for group in by_kind.values():
        report = take_feedback(
            group, store=ctx.feedback, suppressions=ctx.suppressions, now=now, policy=ctx.suppression_policy
        )
        tally.add(group, report)
        received, changed = received + report.received, changed + report.changed
        suppressed += report.suppressed
    return FeedbackReport(received=received, changed=changed, suppressed=suppressed)


def handle_feedback_batch(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Record an SQS batch of feedback at once: a few writes per batch, not per record, since SES
    sends two or more events per e-mail. A body that is no SES event is logged by its queue message
    id and dropped: retrying cannot fix it. When the writes fail, every record that carried feedback
    goes back to the queue; feedback is idempotent, so what was applied before changes nothing then."""
    carried: list[tuple[str, list[Feedback]]] = []
    for raw in event.get("Records") or []:
        record = SQSRecord(raw)
        try:
            items = parse_feedback(record.body)
        except PermanentError as error:
            logger.warning(
                "feedback dropped", extra={"sqs_message_id": record.message_id, "error": str(error)}
            )
            continue
        if items:
            carried.append((record.message_id, items))
    tally = FeedbackTally()
    try:
        report = take_items([item for _, items in carried for item in items], tally)
    except Exception as error:
        logger.exception(
            "feedback not recorded; its records go back to the queue",
            extra={"records": len(carried), "error_type": type(error).__name__},
        )
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id, _ in carried]}
    finally:
        tally.emit(str(Channel.EMAIL))  # SES's feedback: e-mail only
    if report.received:
        logger.info(
            "feedback recorded",
            extra={"received": report.received, "changed": report.changed, "suppressed": report.suppressed},
        )
    return {"batchItemFailures": []}
