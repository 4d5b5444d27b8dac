"""The HTTP API behind API Gateway (REST, v1): the gated resolver, the refusals before any handler, the
error answers, /health and /openapi.json. Each capability's routes live in a module of their own
(event_routes, schedule_routes, delivery_routes, feedback_routes, access_routes); they are thin, each
calls one domain function."""

import functools
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from notify.access import Scope
from notify.bootstrap import services
from notify.delivery import InvalidToken, InvalidTrackingToken
from notify.entrypoints.http import (
    access_routes,
    delivery_routes,
    event_routes,
    feedback_routes,
    schedule_routes,
    workflow_routes,
)
from notify.entrypoints.http.access import ROUTE_COSTS, ROUTE_SCOPES, Admission, check_access
from notify.entrypoints.http.openapi import complete_document, swagger_page
from notify.entrypoints.http.request_guard import Rejection, as_json_content, rejection_body, screen_request
from notify.entrypoints.http.router import NO_ROUTE_REFUSAL, GatedRestResolver, normalised_path
from notify.errors import (
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    RetryableError,
    StateConflict,
)
from notify.logs import service_logger
from notify.models import ErrorList, field_problems

logger = service_logger()
TITLE, VERSION = "Notification service", "1.0.0"
UNAVAILABLE = Rejection(HTTPStatus.SERVICE_UNAVAILABLE, ("service",), "temporarily unavailable, retry")


def _admit(event: Mapping[str, Any], scope: Scope, cost: int) -> Rejection | None:
    """The access check the router runs on a protected route it resolved: None lets it through."""
    ctx = services()
    try:
        admission = check_access(
            event, scope, keys=ctx.known_keys, limits=ctx.rate_limits, now=datetime.now(UTC), cost=cost
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


app = GatedRestResolver(access=ROUTE_SCOPES, costs=ROUTE_COSTS, gate=_admit, enable_validation=True)
for routes in (
    event_routes,
    schedule_routes,
    delivery_routes,
    feedback_routes,
    workflow_routes,
    access_routes,
):
    app.include_router(routes.router)


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
        return app.resolve(as_json_content(event), context)
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


def _errors(status: HTTPStatus, problems: list[FieldProblem]) -> Response[Any]:
    return _json(status, ErrorList.of(problems))


def _json(status: HTTPStatus, body: BaseModel | dict[str, Any]) -> Response[Any]:
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body, ensure_ascii=False)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=text)


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[Any]:
    return _errors(HTTPStatus.UNPROCESSABLE_ENTITY, field_problems(list(error.errors())))


@app.exception_handler(InvalidInput)
def _invalid_input(error: InvalidInput) -> Response[Any]:
    return _errors(HTTPStatus.UNPROCESSABLE_ENTITY, error.problems)


@app.exception_handler(NotFound)
def _not_found(error: NotFound) -> Response[Any]:
    return _errors(HTTPStatus.NOT_FOUND, [FieldProblem(("path",), str(error))])


@app.exception_handler(InvalidToken)
def _bad_token(error: InvalidToken) -> Response[Any]:
    return _errors(HTTPStatus.BAD_REQUEST, [FieldProblem(("query", "token"), str(error))])


@app.exception_handler(InvalidTrackingToken)
def _bad_tracking_token(error: InvalidTrackingToken) -> Response[Any]:
    return _errors(HTTPStatus.BAD_REQUEST, [FieldProblem(("path", "token"), str(error))])


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


@app.get("/health")
def health() -> Response[Any]:
    report = services().health.report()
    return _json(HTTPStatus.OK if report.healthy else HTTPStatus.SERVICE_UNAVAILABLE, report.answer())


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[Any]:
    return Response(
        status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=_openapi_text()
    )


@app.get("/docs", include_in_schema=False)
def docs() -> Response[Any]:
    """Swagger UI over the completed document (powertools' own page would show it before it is
    completed); `?format=json` answers the document."""
    if (app.current_event.query_string_parameters or {}).get("format") == "json":
        return openapi()
    return Response(status_code=HTTPStatus.OK, content_type=content_types.TEXT_HTML, body=_docs_page())


@functools.cache
def _docs_page() -> str:
    return swagger_page(_openapi_text())


@functools.cache
def _openapi_text() -> str:
    return json.dumps(openapi_document())


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document. The routes are fixed once the module is imported: it is made once
    per environment."""
    return complete_document(json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION)))
