"""/suppressions and /stats: the addresses no message goes to (scopes suppressions:read and
suppressions:write), and the numbers an operator watches over a window up to now (events:read)."""

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import AwareDatetime

from notify.bootstrap import services
from notify.channels import Channel
from notify.feedback import (
    StatsView,
    SuppressionPage,
    SuppressionRequest,
    SuppressionView,
    add_suppression,
    delivery_stats,
    lift_suppression,
    page_suppressions,
)
from notify.logs import service_logger

logger = service_logger()
router = Router()  # type: ignore[no-untyped-call]


@router.get("/suppressions")
def list_suppressions(
    channel: Annotated[Channel | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> SuppressionPage:
    return page_suppressions(channel, limit=limit, cursor=cursor, suppressions=services().suppressions)


@router.put("/suppressions/<channel>/<address>")
def put_suppression(
    channel: Channel, address: str, request: Annotated[SuppressionRequest | None, Body()] = None
) -> SuppressionView:
    """Suppress an address by hand (the address URL-encoded); one already suppressed keeps its reason."""
    reason = (request or SuppressionRequest()).reason
    view = add_suppression(
        channel, unquote(address), reason, now=datetime.now(UTC), suppressions=services().suppressions
    )
    logger.info("address suppressed by hand", extra={"channel": str(channel)})
    return view


@router.delete("/suppressions/<channel>/<address>", responses={204: {"description": "No longer suppressed"}})
def delete_suppression(channel: Channel, address: str) -> Response[None]:
    lift_suppression(channel, unquote(address), suppressions=services().suppressions)
    logger.info("suppression lifted", extra={"channel": str(channel)})
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


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
