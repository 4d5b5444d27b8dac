"""Who may call which route: the scope each route needs, checked on the route the router resolved.

Authentication runs in the function, not in an API Gateway authorizer: LocalStack's community edition
never runs authorizers, so one would let every local request through. The table below is the one place
that says what a route needs: a route is registered only with an entry here (entrypoints/http/router.py),
the template's API events must match it (tests/unit/test_packaging.py), and the OpenAPI document's
security requirements are made from it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from notify.access import ApiKeys, RateLimits, Scope, admit, authenticate, authorize, key_id_of
from notify.entrypoints.http.request_guard import BODY_METHODS, Rejection
from notify.errors import Forbidden, RateLimited, Unauthenticated

PUBLIC = None
# (method, path as API Gateway names its resource) → the scope it needs, or PUBLIC.
ROUTE_SCOPES: dict[tuple[str, str], Scope | None] = {
    ("POST", "/events"): Scope.EVENTS_WRITE,
    ("GET", "/events/{event_id}"): Scope.EVENTS_READ,
    ("GET", "/events/{event_id}/notifications"): Scope.EVENTS_READ,
    ("POST", "/events/{event_id}/cancel"): Scope.EVENTS_WRITE,
    ("GET", "/events/{event_id}/runs"): Scope.EVENTS_READ,
    ("GET", "/schedules"): Scope.SCHEDULES_READ,
    ("GET", "/schedules/{schedule_id}"): Scope.SCHEDULES_READ,
    ("PATCH", "/schedules/{schedule_id}"): Scope.SCHEDULES_WRITE,
    ("DELETE", "/schedules/{schedule_id}"): Scope.SCHEDULES_WRITE,
    ("GET", "/users/{user_id}/preferences"): Scope.PREFERENCES_READ,
    ("PUT", "/users/{user_id}/preferences"): Scope.PREFERENCES_WRITE,
    ("PUT", "/directory/users"): Scope.DIRECTORY_WRITE,
    ("PUT", "/directory/movies"): Scope.DIRECTORY_WRITE,
    ("GET", "/suppressions"): Scope.SUPPRESSIONS_READ,
    ("PUT", "/suppressions/{channel}/{address}"): Scope.SUPPRESSIONS_WRITE,
    ("DELETE", "/suppressions/{channel}/{address}"): Scope.SUPPRESSIONS_WRITE,
    ("GET", "/stats"): Scope.EVENTS_READ,
    ("GET", "/topics"): Scope.TOPICS_READ,
    ("GET", "/topics/{topic}"): Scope.TOPICS_READ,
    ("PUT", "/topics/{topic}"): Scope.TOPICS_WRITE,
    ("DELETE", "/topics/{topic}"): Scope.TOPICS_WRITE,
    ("GET", "/topics/{topic}/subscribers"): Scope.TOPICS_READ,
    ("POST", "/topics/{topic}/subscribers"): Scope.TOPICS_WRITE,
    ("GET", "/workflows"): Scope.WORKFLOWS_READ,
    ("GET", "/workflows/{key}"): Scope.WORKFLOWS_READ,
    ("PUT", "/workflows/{key}"): Scope.WORKFLOWS_WRITE,
    ("DELETE", "/workflows/{key}"): Scope.WORKFLOWS_WRITE,
    ("GET", "/workflows/{key}/versions/{version}"): Scope.WORKFLOWS_READ,
    # It reads a user's directory entry into the texts it answers: the directory's own data.
    ("POST", "/workflows/{key}/preview"): Scope.WORKFLOWS_READ,
    ("POST", "/notifications/{notification_id}/engagement"): Scope.ENGAGEMENT_WRITE,
    ("GET", "/keys"): Scope.ADMIN,
    ("POST", "/keys"): Scope.ADMIN,
    ("DELETE", "/keys/{key_id}"): Scope.ADMIN,
    ("GET", "/health"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    # The links in e-mails carry a signed token of their own (RFC 8058 one-click).
    ("GET", "/unsubscribe"): PUBLIC,
    ("POST", "/unsubscribe"): PUBLIC,
    # Tracked links and the open pixel in e-mails carry a signed token of their own.
    ("GET", "/t/{token}"): PUBLIC,
}
BEARER_SCHEME = "bearerAuth"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="notify"'}
CHALLENGE_HEADER = {"WWW-Authenticate": "string"}
AUTHORIZATION_LOC = ("header", "Authorization")


@dataclass(frozen=True)
class Admission:
    """The key that presented the request (None when none did) and, when it is refused, why."""

    key_id: str | None = None
    refusal: Rejection | None = None


def check_access(
    event: Mapping[str, Any], scope: Scope, *, keys: ApiKeys, limits: RateLimits, now: datetime
) -> Admission:
    """Let a request for a route that needs `scope` through, or say why not: 401 (no usable key),
    403 (the key lacks the scope), 429 (the key's rate limit). The router calls this on the route it
    resolved (entrypoints/http/router.py), so the scope is always the one of the route that would run."""
    presented = _header(event, "authorization")
    try:
        record = authenticate(presented, keys=keys, now=now)
    except Unauthenticated as error:
        return Admission(
            key_id_of(presented.partition(" ")[2].strip()) if presented else None,
            Rejection(HTTPStatus.UNAUTHORIZED, AUTHORIZATION_LOC, str(error), CHALLENGE),
        )
    try:
        authorize(record, scope)
        admit(record, limits=limits, now=now)
    except Forbidden as error:
        return Admission(record.key_id, Rejection(HTTPStatus.FORBIDDEN, AUTHORIZATION_LOC, str(error)))
    except RateLimited as error:
        retry_after = {"Retry-After": str(error.retry_after_s)}
        return Admission(
            record.key_id, Rejection(HTTPStatus.TOO_MANY_REQUESTS, AUTHORIZATION_LOC, str(error), retry_after)
        )
    return Admission(record.key_id)


def _header(event: Mapping[str, Any], wanted: str) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if str(name).lower() == wanted:
            return str(value)
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if str(name).lower() == wanted and values:
            return str(values[0])
    return None


def _error_response(description: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorList"}}},
    }
    if headers:
        answer["headers"] = {name: {"schema": {"type": kind}} for name, kind in headers.items()}
    return answer


def secure_document(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the bearer scheme, each operation's security requirement (`[]` on
    the public ones) and the answers the gate and the request guard give."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": 'An API key (nk_<id>_<secret>): `make keys ARGS="create …"` or POST /keys.',
    }
    components.setdefault("schemas", {})["ErrorList"] = {
        "type": "object",
        "properties": {
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                        "msg": {"type": "string"},
                    },
                },
            }
        },
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            scope = ROUTE_SCOPES.get((method.upper(), path))
            responses = operation.setdefault("responses", {})
            if method.upper() in BODY_METHODS:
                responses["413"] = _error_response("The body is over 6,000,000 bytes")
                responses["415"] = _error_response("The body is not JSON (Content-Type)")
            if scope is None:
                operation["security"] = []
                continue
            operation["security"] = [{BEARER_SCHEME: []}]
            operation["description"] = (
                operation.get("description", "")
                + f"\n\nNeeds an API key with the scope `{scope}` (or `admin`)."
            ).strip()
            responses["401"] = _error_response(
                "No API key, or one malformed, unknown or revoked", CHALLENGE_HEADER
            )
            responses["403"] = _error_response(f"The key lacks the scope {scope}")
            responses["429"] = _error_response("The key's rate limit is reached", {"Retry-After": "integer"})
    return document
