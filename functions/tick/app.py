"""EventBridge, every minute → send what is due, re-publish what an outage left behind."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.entrypoints.tick import tick_now
from notify.logs import service_logger

logger = service_logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = tick_now(lambda: context.get_remaining_time_in_millis() / 1000)
    logger.info("tick done", extra=asdict(report))
    return asdict(report)
