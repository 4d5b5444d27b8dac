"""Invoked once per deploy → the database's missing migrations applied (the functions only check them)."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.entrypoints.migrate import migrate_now
from notify.logs import service_logger

logger = service_logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = migrate_now()
    logger.info("migrations applied", extra=asdict(report))
    return asdict(report)
