"""/stats: the numbers an operator watches, over a window up to now (scope events:read)."""

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime

from notify.bootstrap import services
from notify.models import StatsView
from notify.stats import delivery_stats

router = Router()  # type: ignore[no-untyped-call]


@router.get("/stats")
def get_stats(
    since: Annotated[
        AwareDatetime,
        Query(description="The window's start, an ISO 8601 time with its offset (e.g. 2026-01-01T00:00:00Z)"),
    ],
) -> StatsView:
    """Per channel and event type over [since, now]: the notifications handed to the provider (by
    when they were), by their status now (`sent` counts sent and unconfirmed), those skipped because
    the address is suppressed, and the bounce and complaint rates; `totals` per channel."""
    return delivery_stats(since, now=datetime.now(UTC), stats=services().delivery_stats)
