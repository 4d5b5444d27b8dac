"""/suppressions: the addresses no message goes to (scopes suppressions:read and suppressions:write)."""

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from notify.bootstrap import services
from notify.channels import Channel
from notify.logs import service_logger
from notify.models import SuppressionPage, SuppressionRequest, SuppressionView
from notify.suppressions import add_suppression, lift_suppression, page_suppressions

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
