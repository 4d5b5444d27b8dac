"""The HTTP API behind API Gateway (REST, v1): routes are thin, each calls one domain function."""

import functools
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from notify.bootstrap import services
from notify.cancellation import EventCancelled, cancel_event
from notify.channels import EventType
from notify.entrypoints import key_routes, stats_routes, suppression_routes, topic_routes
from notify.entrypoints.access import ROUTE_SCOPES, Admission, check_access, secure_document
from notify.entrypoints.request_guard import Rejection, rejection_body, screen_request
from notify.entrypoints.router import NO_ROUTE_REFUSAL, GatedRestResolver, normalised_path
from notify.errors import (
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    RetryableError,
    StateConflict,
)
from notify.ingest import IngestPorts, accept_event
from notify.key_ports import Scope
from notify.logs import service_logger
from notify.models import (
    DirectoryMovie,
    DirectoryUser,
    EventAccepted,
    EventRequest,
    EventView,
    NotificationPage,
    PreferencesDocument,
    SchedulePage,
    SchedulePatch,
    ScheduleState,
    ScheduleView,
    Upserted,
)
from notify.preferences import read_preferences, replace_preferences, unsubscribe
from notify.queries import find_event, page_notifications, page_schedules
from notify.scheduling import cancel_schedule, change_schedule, describe_schedule
from notify.unsubscribe import InvalidToken, verify_token

logger = service_logger()
TITLE, VERSION = "Notification service", "1.0.0"
UNAVAILABLE = Rejection(HTTPStatus.SERVICE_UNAVAILABLE, ("service",), "temporarily unavailable, retry")


def _admit(event: Mapping[str, Any], scope: Scope) -> Rejection | None:
    """The access check the router runs on a protected route it resolved: None lets it through."""
    ctx = services()
    try:
        admission = check_access(
            event, scope, keys=ctx.known_keys, limits=ctx.rate_limits, now=datetime.now(UTC)
        )
    except RetryableError as error:
        logger.warning("dependency unavailable", extra={"error": type(error).__name__})
        admission = Admission(refusal=UNAVAILABLE)
    if admission.refusal is not None:
        _log_refusal(admission.refusal, admission.key_id)
    elif admission.key_id is not None:
        # The key's id (never the key) names the caller in every line logged for this request.
        logger.append_keys(key_id=admission.key_id)
    return admission.refusal


app = GatedRestResolver(access=ROUTE_SCOPES, gate=_admit, enable_validation=True)
app.enable_swagger(path="/docs", title=TITLE, version=VERSION)
app.include_router(key_routes.router)
app.include_router(suppression_routes.router)
app.include_router(stats_routes.router)
app.include_router(topic_routes.router)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The HTTP API: a request the router cannot take safely (request_guard) is answered with a 4xx
    naming the field and the problem; the path is normalised once; the router resolves the route and
    checks its scope (401, 403 or 429) before the request's validation and its handler."""
    path = normalised_path(str(event.get("path") or ""))
    if path is None:
        rejection: Rejection | None = NO_ROUTE_REFUSAL
    else:
        event = event if path == event.get("path") else {**event, "path": path}
        rejection = screen_request(event)
    if rejection is not None:
        _log_refusal(rejection, None)
        return {
            "statusCode": int(rejection.status),
            "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]}
            | {name: [value] for name, value in rejection.headers.items()},
            "body": rejection_body(rejection),
            "isBase64Encoded": False,
        }
    try:
        return app.resolve(event, context)
    finally:
        logger.remove_keys(["key_id"])


def _log_refusal(rejection: Rejection, key_id: str | None) -> None:
    logger.info(
        "request refused before its handler",
        extra={
            "status": int(rejection.status),
            "loc": [str(part) for part in rejection.loc],
            "key_id": key_id,
        },
    )


def _time_left(context: LambdaContext | None) -> Callable[[], float]:
    """Seconds the invocation has left (none without a Lambda context: nothing is done in the request)."""
    if context is None:
        return lambda: 0.0
    return lambda: context.get_remaining_time_in_millis() / 1000


def _errors(status: HTTPStatus, problems: list[FieldProblem]) -> Response[Any]:
    return _json(status, {"errors": [{"loc": list(p.loc), "msg": p.msg} for p in problems]})


def _json(status: HTTPStatus, body: BaseModel | dict[str, Any]) -> Response[Any]:
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, ensure_ascii=False)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=text)


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[Any]:
    problems = [FieldProblem(tuple(item.get("loc", ())), _readable(item)) for item in error.errors()]
    return _errors(HTTPStatus.UNPROCESSABLE_ENTITY, problems)


def _readable(item: dict[str, Any]) -> str:
    if item.get("type") == "json_invalid":
        return "the body is not valid JSON"
    message = str(item.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


@app.exception_handler(InvalidInput)
def _invalid_input(error: InvalidInput) -> Response[Any]:
    return _errors(HTTPStatus.UNPROCESSABLE_ENTITY, error.problems)


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response[Any]:
    return _errors(HTTPStatus.NOT_FOUND, [FieldProblem(("path",), str(error))])


@app.exception_handler(InvalidToken)
def _bad_token(error: InvalidToken) -> Response[Any]:
    return _errors(HTTPStatus.BAD_REQUEST, [FieldProblem(("query", "token"), str(error))])


@app.exception_handler(StateConflict)
def _state_conflict(error: StateConflict) -> Response[Any]:
    return _errors(HTTPStatus.CONFLICT, [FieldProblem(("path",), str(error))])


@app.exception_handler(IdempotencyConflict)
def _conflict(error: IdempotencyConflict) -> Response[Any]:
    return _errors(HTTPStatus.CONFLICT, [FieldProblem(("header", "Idempotency-Key"), str(error))])


@app.exception_handler(RetryableError)
def _unavailable(error: RetryableError) -> Response[Any]:
    logger.warning("dependency unavailable", extra={"error": type(error).__name__})
    return _errors(UNAVAILABLE.status, [FieldProblem(UNAVAILABLE.loc, UNAVAILABLE.msg)])


@app.post("/events", responses={202: {"description": "Accepted"}})
def post_event(
    event: EventRequest,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response[EventAccepted]:
    ctx = services()
    accepted = accept_event(
        event,
        now=datetime.now(UTC),
        ports=IngestPorts(
            events=ctx.events,
            directory=ctx.directory,
            outbox=ctx.outbox,
            publisher=ctx.publisher,
            audiences=ctx.audiences,
            fan_outs=ctx.fan_outs,
        ),
        policy=ctx.ingest_policy,
        idempotency_key=idempotency_key,
        time_left=_time_left(app.lambda_context),
    )
    logger.info(
        "event accepted",
        extra={"event_id": str(accepted.event_id), "status": accepted.status, "rows": accepted.notifications},
    )
    return Response(
        status_code=HTTPStatus.ACCEPTED, content_type=content_types.APPLICATION_JSON, body=accepted
    )


@app.get("/events/<event_id>")
def get_event(event_id: uuid.UUID) -> EventView:
    return find_event(event_id, events=services().events)


@app.post("/events/<event_id>/cancel")
def cancel(event_id: uuid.UUID) -> EventCancelled:
    """Stop the event: its fan-out, and every row no sender holds; the rows being sent finish."""
    cancelled = cancel_event(event_id, now=datetime.now(UTC), events=services().cancellations)
    logger.info("event cancelled", extra={"event_id": str(event_id), "cancelled": cancelled.cancelled})
    return cancelled


@app.get("/events/<event_id>/notifications")
def list_notifications(
    event_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
) -> NotificationPage:
    return page_notifications(event_id, status=status, limit=limit, cursor=cursor, events=services().events)


@app.get("/schedules")
def list_schedules(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    event_type: Annotated[EventType | None, Query()] = None,
    state: Annotated[ScheduleState | None, Query()] = None,
) -> SchedulePage:
    return page_schedules(
        event_type=event_type, state=state, limit=limit, cursor=cursor, schedules=services().schedules
    )


@app.get("/schedules/<schedule_id>")
def get_schedule(schedule_id: uuid.UUID) -> ScheduleView:
    return describe_schedule(schedule_id, schedules=services().schedules)


@app.patch("/schedules/<schedule_id>")
def patch_schedule(schedule_id: uuid.UUID, patch: SchedulePatch) -> ScheduleView:
    return change_schedule(schedule_id, patch, now=datetime.now(UTC), schedules=services().schedules)


@app.delete("/schedules/<schedule_id>", responses={204: {"description": "Cancelled"}})
def delete_schedule(schedule_id: uuid.UUID) -> Response[None]:
    cancel_schedule(schedule_id, schedules=services().schedules)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@app.get("/users/<user_id>/preferences")
def get_preferences(user_id: uuid.UUID) -> PreferencesDocument:
    return read_preferences(user_id, store=services().preferences)


@app.put("/users/<user_id>/preferences")
def put_preferences(user_id: uuid.UUID, document: PreferencesDocument) -> PreferencesDocument:
    return replace_preferences(user_id, document, store=services().preferences)


_EVENT_NAMES = {
    EventType.NEW_EPISODE: "new episodes",
    EventType.COMMENT_LIKED: "likes of your comments",
    EventType.NEW_RELEASES_PROMO: "new releases",
    EventType.WATCH_LATER_REMINDER: "movies you saved for later",
}


@app.get("/unsubscribe", include_in_schema=True)
def unsubscribe_page(token: Annotated[str, Query(max_length=1000)]) -> Response[str]:
    """A confirmation page; the form posts back for the one-click opt-out (RFC 8058)."""
    request = verify_token(token, secret=services().settings.unsubscribe_secret, now=datetime.now(UTC))
    return _html(services().renderer.render_page("unsubscribe", topic=_EVENT_NAMES[request.event_type]))


@app.post("/unsubscribe")
def unsubscribe_now(token: Annotated[str, Query(max_length=1000)]) -> Response[str]:
    ctx = services()
    request = unsubscribe(
        token, secret=ctx.settings.unsubscribe_secret, now=datetime.now(UTC), store=ctx.preferences
    )
    logger.info("unsubscribed by link", extra={"event_type": str(request.event_type)})
    return _html(ctx.renderer.render_page("unsubscribed", topic=_EVENT_NAMES[request.event_type]))


def _html(page: str) -> Response[str]:
    return Response(status_code=HTTPStatus.OK, content_type=content_types.TEXT_HTML, body=page)


@app.put("/directory/users")
def put_users(users: list[DirectoryUser]) -> Upserted:
    return Upserted(upserted=services().directory.upsert_users(users))


@app.put("/directory/movies")
def put_movies(movies: list[DirectoryMovie]) -> Upserted:
    return Upserted(upserted=services().directory.upsert_movies(movies))


@app.get("/health")
def health() -> Response[Any]:
    report = services().health.report()
    return _json(HTTPStatus.OK if report.healthy else HTTPStatus.SERVICE_UNAVAILABLE, report.answer())


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[Any]:
    return Response(
        status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=_openapi_text()
    )


@functools.cache
def _openapi_text() -> str:
    # The routes are fixed once the module is imported: the document is made once per environment.
    return json.dumps(secure_document(json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))))
