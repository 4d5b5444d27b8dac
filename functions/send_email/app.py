"""SQS (notify-email-*) → deliver each message; failed records go back to their queue."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.channels import Channel
from notify.entrypoints.queue import handle_sqs_batch, logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return handle_sqs_batch(event, context, Channel.EMAIL)
