"""/users/{id}/preferences and /unsubscribe: what a recipient receives, changed by the API or by a
signed one-click link."""

import base64
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from notify.bootstrap import services
from notify.channels import EventType
from notify.delivery import (
    PIXEL,
    PIXEL_SUFFIX,
    EngagementRequest,
    EngagementView,
    PreferencesDocument,
    follow_tracking,
    read_preferences,
    record_engagement,
    replace_preferences,
    unsubscribe,
    verify_link,
)
from notify.entrypoints.http.router import html_page
from notify.logs import service_logger

logger = service_logger()
router = Router()  # type: ignore[no-untyped-call]


@router.get("/users/<user_id>/preferences")
def get_preferences(user_id: uuid.UUID) -> PreferencesDocument:
    return read_preferences(user_id, store=services().preferences)


@router.put("/users/<user_id>/preferences")
def put_preferences(user_id: uuid.UUID, document: PreferencesDocument) -> PreferencesDocument:
    return replace_preferences(user_id, document, store=services().preferences)


_EVENT_NAMES: dict[str, str] = {
    EventType.NEW_EPISODE: "new episodes",
    EventType.COMMENT_LIKED: "likes of your comments",
    EventType.NEW_RELEASES_PROMO: "new releases",
    EventType.WATCH_LATER_REMINDER: "movies you saved for later",
}


@router.get("/unsubscribe", include_in_schema=True)
def unsubscribe_page(token: Annotated[str, Query(max_length=1000)]) -> Response[str]:
    """A confirmation page; the form posts back for the one-click opt-out (RFC 8058)."""
    request = verify_link(token, keys=services().unsubscribe_keys, now=datetime.now(UTC))
    return html_page(services().renderer.render_page("unsubscribe", topic=_topic(request.event_type)))


@router.post("/unsubscribe")
def unsubscribe_now(token: Annotated[str, Query(max_length=1000)]) -> Response[str]:
    ctx = services()
    request = unsubscribe(token, keys=ctx.unsubscribe_keys, now=datetime.now(UTC), store=ctx.preferences)
    logger.info("unsubscribed by link", extra={"event_type": str(request.event_type)})
    return html_page(ctx.renderer.render_page("unsubscribed", topic=_topic(request.event_type)))


def _topic(event_type: str) -> str:
    """What the page calls the e-mails the link opts out of: a built-in's name, else the workflow's key."""
    return _EVENT_NAMES.get(event_type, event_type.replace("_", " "))


@router.post("/notifications/<notification_id>/engagement")
def post_engagement(notification_id: uuid.UUID, request: EngagementRequest) -> EngagementView:
    """What the app reports of a push (or any notification) whose id it received."""
    ctx = services()
    return record_engagement(
        notification_id, request.action, now=datetime.now(UTC), store=ctx.engagements, controls=ctx.controls
    )


@router.get("/t/<token>", responses={302: {"description": "To the link"}})
def tracked(token: Annotated[str, Path(max_length=4000)]) -> Response[str]:
    """A tracked link (302 to it) or, with `.gif` at its end, the open pixel; a forged token is 400."""
    ctx = services()
    pixel = token.endswith(PIXEL_SUFFIX)
    url = follow_tracking(
        token.removesuffix(PIXEL_SUFFIX),
        keys=ctx.unsubscribe_keys,
        now=datetime.now(UTC),
        store=ctx.engagements,
        controls=ctx.controls,
    )
    if pixel or url is None:
        # Binary, base64 as API Gateway wants it (BinaryMediaTypes: image/gif in template.yaml).
        image = Response(
            status_code=HTTPStatus.OK,
            content_type="image/gif",
            body=base64.b64encode(PIXEL).decode(),
            headers={"Cache-Control": "no-store"},
        )
        image.base64_encoded = True
        return image
    return Response(
        status_code=HTTPStatus.FOUND,
        content_type="text/plain",
        body="",
        headers={"Location": url, "Cache-Control": "no-store"},
    )
