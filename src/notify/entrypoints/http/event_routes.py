"""/topics: named sets of users an event can go to (scopes topics:read and topics:write)."""

from http import HTTPStatus
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from notify.bootstrap import services
from notify.logs import service_logger
from notify.topic_models import (
    SubscriberPage,
    SubscribersChange,
    SubscribersChanged,
    TopicPage,
    TopicRequest,
    TopicView,
)
from notify.topics import (
    change_subscribers,
    delete_topic,
    describe_topic,
    page_subscribers,
    page_topics,
    put_topic,
)

logger = service_logger()
router = Router()  # type: ignore[no-untyped-call]


@router.get("/topics")
def list_topics(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> TopicPage:
    return page_topics(limit=limit, cursor=cursor, topics=services().topics)


@router.put("/topics/<topic>", responses={201: {"description": "Created"}, 200: {"description": "Updated"}})
def put_topic_route(
    topic: str, request: Annotated[TopicRequest | None, Body()] = None
) -> Response[TopicView]:
    view, created = put_topic(
        unquote(topic), (request or TopicRequest()).description, topics=services().topics
    )
    logger.info("topic created" if created else "topic updated", extra={"topic": view.topic})
    return Response(
        status_code=HTTPStatus.CREATED if created else HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=view,
    )


@router.get("/topics/<topic>")
def get_topic(topic: str) -> TopicView:
    return describe_topic(unquote(topic), topics=services().topics)


@router.delete("/topics/<topic>", responses={204: {"description": "Deleted, with its subscriptions"}})
def delete_topic_route(topic: str) -> Response[None]:
    delete_topic(unquote(topic), topics=services().topics)
    logger.info("topic deleted", extra={"topic": unquote(topic)})
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@router.post("/topics/<topic>/subscribers")
def post_subscribers(topic: str, change: SubscribersChange) -> SubscribersChanged:
    changed = change_subscribers(unquote(topic), change, topics=services().topics)
    logger.info(
        "topic subscribers changed",
        extra={"topic": changed.topic, "added": changed.added, "removed": changed.removed},
    )
    return changed


@router.get("/topics/<topic>/subscribers")
def list_subscribers(
    topic: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> SubscriberPage:
    return page_subscribers(unquote(topic), limit=limit, cursor=cursor, topics=services().topics)
