"""/events, /topics and /directory: accepting events, reading and cancelling them, the topics an event
can go to (scopes events:*, topics:*), and the directory events are enriched from (directory:write)."""

import uuid
from collections import Counter
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from notify.bootstrap import services
from notify.channels import NotificationStatus
from notify.entrypoints.http.router import time_left
from notify.events import (
    IDEMPOTENCY_KEY_LENGTH,
    BatchAccepted,
    DirectoryMovie,
    DirectoryUser,
    EventAccepted,
    EventBatch,
    EventCancelled,
    EventRequest,
    EventView,
    IngestPorts,
    NotificationPage,
    SubscriberPage,
    SubscribersChange,
    SubscribersChanged,
    TopicPage,
    TopicRequest,
    TopicView,
    Upserted,
    accept_event,
    accept_events,
    cancel_event,
    change_subscribers,
    delete_topic,
    describe_topic,
    find_event,
    page_notifications,
    page_subscribers,
    page_topics,
    put_topic,
)
from notify.logs import service_logger

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


def _ingest_ports() -> IngestPorts:
    ctx = services()
    return IngestPorts(
        events=ctx.events,
        directory=ctx.directory,
        outbox=ctx.outbox,
        publisher=ctx.publisher,
        audiences=ctx.audiences,
        fan_outs=ctx.fan_outs,
        workflows=ctx.workflows,
    )


@router.post("/events", responses={202: {"description": "Accepted"}})
def post_event(
    event: EventRequest,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_LENGTH)
    ] = None,
) -> Response[EventAccepted]:
    accepted = accept_event(
        event,
        now=datetime.now(UTC),
        ports=_ingest_ports(),
        policy=services().ingest_policy,
        idempotency_key=idempotency_key,
        time_left=time_left(router.lambda_context),
    )
    logger.info(
        "event accepted",
        extra={"event_id": str(accepted.event_id), "status": accepted.status, "rows": accepted.notifications},
    )
    return Response(
        status_code=HTTPStatus.ACCEPTED, content_type=content_types.APPLICATION_JSON, body=accepted
    )


@router.post(
    "/events/batch",
    responses={
        207: {
            "description": "A result per event, in order: 202 (accepted, or its key's first answer), "
            "409 (its key used with another event) or 422 (what is wrong with it)"
        }
    },
)
def post_events(batch: EventBatch) -> Response[BatchAccepted]:
    """Up to 100 events in one request, each validated, stored and answered on its own as POST /events
    would. Each counts against the key's rate limit."""
    accepted = accept_events(
        batch.events,
        now=datetime.now(UTC),
        ports=_ingest_ports(),
        policy=services().ingest_policy,
        time_left=time_left(router.lambda_context),
    )
    logger.info(
        "events accepted",
        extra={
            "events": len(accepted.results),
            "statuses": dict(Counter(r.status for r in accepted.results)),
        },
    )
    return Response(
        status_code=HTTPStatus.MULTI_STATUS, content_type=content_types.APPLICATION_JSON, body=accepted
    )


@router.get("/events/<event_id>")
def get_event(event_id: uuid.UUID) -> EventView:
    return find_event(event_id, events=services().events)


@router.post("/events/<event_id>/cancel")
def cancel(event_id: uuid.UUID) -> EventCancelled:
    """Stop the event: its fan-out, and every row no sender holds; the rows being sent finish."""
    cancelled = cancel_event(event_id, now=datetime.now(UTC), events=services().cancellations)
    logger.info("event cancelled", extra={"event_id": str(event_id), "cancelled": cancelled.cancelled})
    return cancelled


@router.get("/events/<event_id>/notifications")
def list_notifications(
    event_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[NotificationStatus | None, Query()] = None,
) -> NotificationPage:
    return page_notifications(event_id, status=status, limit=limit, cursor=cursor, events=services().events)


@router.put("/directory/users")
def put_users(users: list[DirectoryUser]) -> Upserted:
    return Upserted(upserted=services().directory.upsert_users(users))


@router.put("/directory/movies")
def put_movies(movies: list[DirectoryMovie]) -> Upserted:
    return Upserted(upserted=services().directory.upsert_movies(movies))
