"""/users/{id}/preferences and /unsubscribe: what a recipient receives, changed by the API or by a
signed one-click link."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from notify.bootstrap import services
from notify.channels import EventType
from notify.delivery import (
    PreferencesDocument,
    read_preferences,
    replace_preferences,
    unsubscribe,
    verify_link,
)
from notify.entrypoints.http.responses import html_page
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
