"""SQS (<prefix>-feedback, fed by the e-mail feedback topic) → statuses and the suppression list."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.entrypoints.feedback_queue import handle_feedback_batch, logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle_feedback_batch(event, context)
