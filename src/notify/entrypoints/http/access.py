"""Who may call which route: the scope each route needs, checked on the route the router resolved.

Authentication runs in the function, not in an API Gateway authorizer: LocalStack's community edition
never runs authorizers, so one would let every local request through.

Every route of the API is said once, in the route table below (ROUTES): the scope it needs, its
operationId and tag in the OpenAPI document, whether it can answer 409. The router registers only
what is there (router.py), the access check reads the scopes, the document is completed from it
(openapi.py), and the template's API events must match it (tests/unit/test_packaging.py).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any

from notify.access import ApiKeys, RateLimits, Scope, admit, authenticate, authorize, key_id_of
from notify.entrypoints.http.request_guard import Rejection, events_in_batch
from notify.errors import Forbidden, InvalidInput, RateLimited, Unauthenticated

PUBLIC = None


@dataclass(frozen=True)
class RouteSpec:
    scope: Scope | None  # PUBLIC: no key asked
    operation_id: str
    tag: str
    conflicts: bool = False  # may answer 409 (an idempotency or a state conflict)
    # May answer 404: a route with a path parameter always may; one without, when what it reads
    # from its query can be gone (an unsubscribe link's user).
    finds: bool = False
    # What a request costs against its key's rate limit (None: 1), read from the request: a batch
    # counts its events.
    cost: Callable[[Mapping[str, Any]], int] | None = None


def _route(
    scope: Scope | None,
    operation_id: str,
    tag: str,
    *,
    conflicts: bool = False,
    finds: bool = False,
    cost: Callable[[Mapping[str, Any]], int] | None = None,
) -> RouteSpec:
    return RouteSpec(scope, operation_id, tag, conflicts, finds, cost)


# The tags, in the document's order, each with what its operations are about.
TAGS = {
    "events": "Events in, their notifications and runs out",
    "topics": "Named audiences and their subscribers",
    "directory": "The users and movies events are enriched from",
    "schedules": "Recurring and future events",
    "preferences": "A user's channels, quiet hours and digests",
    "suppressions": "Addresses no message goes to",
    "stats": "Delivery and engagement figures",
    "workflows": "Notification types: steps, templates and controls",
    "engagement": "Opens, clicks and reads",
    "keys": "API keys (admin)",
    "links": "The links in e-mails: unsubscribe, tracked links and the open pixel",
    "service": "The service itself",
}

_W, _R = Scope.EVENTS_WRITE, Scope.EVENTS_READ
# (method, path as API Gateway names its resource) → what the route is.
ROUTES: dict[tuple[str, str], RouteSpec] = {
    ("POST", "/events"): _route(_W, "postEvent", "events", conflicts=True),
    ("POST", "/events/batch"): _route(_W, "postEvents", "events", cost=events_in_batch),
    ("GET", "/events/{event_id}"): _route(_R, "getEvent", "events"),
    ("GET", "/events/{event_id}/notifications"): _route(_R, "listNotifications", "events"),
    ("POST", "/events/{event_id}/cancel"): _route(_W, "cancelEvent", "events"),
    ("GET", "/events/{event_id}/runs"): _route(_R, "getRun", "events"),
    ("GET", "/schedules"): _route(Scope.SCHEDULES_READ, "listSchedules", "schedules"),
    ("GET", "/schedules/{schedule_id}"): _route(Scope.SCHEDULES_READ, "getSchedule", "schedules"),
    ("PATCH", "/schedules/{schedule_id}"): _route(
        Scope.SCHEDULES_WRITE, "updateSchedule", "schedules", conflicts=True
    ),
    ("DELETE", "/schedules/{schedule_id}"): _route(
        Scope.SCHEDULES_WRITE, "cancelSchedule", "schedules", conflicts=True
    ),
    ("GET", "/users/{user_id}/preferences"): _route(Scope.PREFERENCES_READ, "getPreferences", "preferences"),
    ("PUT", "/users/{user_id}/preferences"): _route(Scope.PREFERENCES_WRITE, "putPreferences", "preferences"),
    ("PUT", "/directory/users"): _route(Scope.DIRECTORY_WRITE, "putUsers", "directory"),
    ("PUT", "/directory/movies"): _route(Scope.DIRECTORY_WRITE, "putMovies", "directory"),
    ("GET", "/suppressions"): _route(Scope.SUPPRESSIONS_READ, "listSuppressions", "suppressions"),
    ("PUT", "/suppressions/{channel}/{address}"): _route(
        Scope.SUPPRESSIONS_WRITE, "putSuppression", "suppressions"
    ),
    ("DELETE", "/suppressions/{channel}/{address}"): _route(
        Scope.SUPPRESSIONS_WRITE, "deleteSuppression", "suppressions"
    ),
    ("GET", "/stats"): _route(_R, "getStats", "stats"),
    ("GET", "/topics"): _route(Scope.TOPICS_READ, "listTopics", "topics"),
    ("GET", "/topics/{topic}"): _route(Scope.TOPICS_READ, "getTopic", "topics"),
    ("PUT", "/topics/{topic}"): _route(Scope.TOPICS_WRITE, "putTopic", "topics", conflicts=True),
    ("DELETE", "/topics/{topic}"): _route(Scope.TOPICS_WRITE, "deleteTopic", "topics", conflicts=True),
    ("GET", "/topics/{topic}/subscribers"): _route(Scope.TOPICS_READ, "listSubscribers", "topics"),
    ("POST", "/topics/{topic}/subscribers"): _route(
        Scope.TOPICS_WRITE, "changeSubscribers", "topics", conflicts=True
    ),
    ("GET", "/workflows"): _route(Scope.WORKFLOWS_READ, "listWorkflows", "workflows"),
    ("GET", "/workflows/{key}"): _route(Scope.WORKFLOWS_READ, "getWorkflow", "workflows"),
    ("PUT", "/workflows/{key}"): _route(Scope.WORKFLOWS_WRITE, "putWorkflow", "workflows"),
    ("DELETE", "/workflows/{key}"): _route(
        Scope.WORKFLOWS_WRITE, "archiveWorkflow", "workflows", conflicts=True
    ),
    ("GET", "/workflows/{key}/versions/{version}"): _route(
        Scope.WORKFLOWS_READ, "getWorkflowVersion", "workflows"
    ),
    # It reads a user's directory entry into the texts it answers: the directory's own data.
    ("POST", "/workflows/{key}/preview"): _route(Scope.WORKFLOWS_READ, "previewWorkflow", "workflows"),
    ("POST", "/notifications/{notification_id}/engagement"): _route(
        Scope.ENGAGEMENT_WRITE, "recordEngagement", "engagement"
    ),
    ("GET", "/keys"): _route(Scope.ADMIN, "listKeys", "keys"),
    ("POST", "/keys"): _route(Scope.ADMIN, "createKey", "keys"),
    ("DELETE", "/keys/{key_id}"): _route(Scope.ADMIN, "revokeKey", "keys"),
    ("GET", "/health"): _route(PUBLIC, "getHealth", "service"),
    ("GET", "/openapi.json"): _route(PUBLIC, "getOpenApiDocument", "service"),
    ("GET", "/docs"): _route(PUBLIC, "getDocs", "service"),
    # The links in e-mails carry a signed token of their own (RFC 8058 one-click).
    ("GET", "/unsubscribe"): _route(PUBLIC, "unsubscribePage", "links"),
    ("POST", "/unsubscribe"): _route(PUBLIC, "unsubscribe", "links", finds=True),
    # Tracked links and the open pixel in e-mails carry a signed token of their own.
    ("GET", "/t/{token}"): _route(PUBLIC, "followTrackedLink", "links"),
}

# (method, path as API Gateway names its resource) → the scope it needs (None: public).
ROUTE_SCOPES: dict[tuple[str, str], Scope | None] = {route: spec.scope for route, spec in ROUTES.items()}
ROUTE_COSTS = {route: spec.cost for route, spec in ROUTES.items() if spec.cost is not None}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="notify"'}
AUTHORIZATION_LOC = ("header", "Authorization")


@dataclass(frozen=True)
class Admission:
    """The key that presented the request (None when none did) and, when it is refused, why."""

    key_id: str | None = None
    refusal: Rejection | None = None


def check_access(
    event: Mapping[str, Any],
    scope: Scope,
    *,
    keys: ApiKeys,
    limits: RateLimits,
    now: datetime,
    cost: int = 1,
) -> Admission:
    """Let a request for a route that needs `scope` through, or say why not: 401 (no usable key),
    403 (the key lacks the scope), 429 (the key's rate limit, counting the request as `cost` uses),
    422 (a cost beyond the limit itself). The router calls this on the route it resolved
    (entrypoints/http/router.py), so the scope and the cost are always those of the route that would run."""
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
        admit(record, limits=limits, now=now, cost=cost)
    except InvalidInput as error:
        problem = error.problems[0]
        return Admission(record.key_id, Rejection(HTTPStatus.UNPROCESSABLE_ENTITY, problem.loc, problem.msg))
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
