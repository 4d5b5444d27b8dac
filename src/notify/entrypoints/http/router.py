"""The router that checks access on its own resolution of the path.

The access check and the router can never disagree about which route a request is for: the check
runs inside the router, on the route the router matched, before the request's validation and its
handler. Every route takes its scope from the access table when it is registered, and one the table
does not declare cannot be registered at all, so no route is public by omission. A path the router
resolves to no route is answered 404 ("no such route") without any handler or middleware run, and a
route the router would call without a scope recorded for it is refused the same way.

The path is normalised once, before the router sees it (`normalised_path`): runs of slashes are one,
a trailing slash is dropped. A dot segment or a control character in the path resolves to no route.
"""

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, NoReturn

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ResponseBuilder, Route
from aws_lambda_powertools.utilities.typing import LambdaContext

from notify.access import Scope
from notify.entrypoints.http.request_guard import Rejection, rejection_body
from notify.text import control_character_in

# What a protected route asks before its request goes on (the request, the route's scope, what the
# request costs against its key's rate limit): None lets it through.
Gate = Callable[[Mapping[str, Any], Scope, int], Rejection | None]
# A route's cost, read from its request (routes without one cost 1).
Cost = Callable[[Mapping[str, Any]], int]
NO_ROUTE = "no such route"
NO_ROUTE_REFUSAL = Rejection(HTTPStatus.NOT_FOUND, ("path",), NO_ROUTE)
_DOT_SEGMENTS = {".", "..", "%2e", "%2e%2e", ".%2e", "%2e."}


class UndeclaredRoute(LookupError):
    """A route registered without an entry in the access table: refused at import."""


def openapi_path(rule: str) -> str:
    """The router's rule (`/keys/<key_id>`) as API Gateway and OpenAPI name it (`/keys/{key_id}`)."""
    return rule.replace("<", "{").replace(">", "}")


def normalised_path(path: str) -> str | None:
    """The one spelling of a path, or None for one that can name no route (dot segments, control
    characters)."""
    if control_character_in(path):
        return None
    segments = [segment for segment in path.split("/") if segment]
    if any(segment.lower() in _DOT_SEGMENTS for segment in segments):
        return None
    return "/" + "/".join(segments)


class GatedRestResolver(APIGatewayRestResolver):
    """API Gateway's REST router, with the access table's scope checked on the route it resolved."""

    def __init__(
        self,
        *,
        access: Mapping[tuple[str, str], Scope | None],
        gate: Gate,
        costs: Mapping[tuple[str, str], Cost] | None = None,
        **options: Any,
    ) -> None:
        self._access = access
        self._gate = gate
        self._declared_costs = costs or {}
        # (method, rule as registered) → the scope it needs (None: public), and its cost when not 1.
        self._scopes: dict[tuple[str, str], Scope | None] = {}
        self._costs: dict[tuple[str, str], Cost] = {}
        super().__init__(**options)

    def route(
        self, rule: str, method: str | list[str] | tuple[str], *args: Any, **kwargs: Any
    ) -> Callable[[Any], Any]:
        rule = rule.rstrip("/")  # as powertools keeps it: the scope is recorded under the same rule
        for item in (method,) if isinstance(method, str) else method:
            declared = (item.upper(), openapi_path(rule))
            if declared not in self._access:
                raise UndeclaredRoute(f"{declared[0]} {declared[1]} has no entry in the access table")
            self._scopes[(item.upper(), rule)] = self._access[declared]
            if declared in self._declared_costs:
                self._costs[(item.upper(), rule)] = self._declared_costs[declared]
        return super().route(rule, method, *args, **kwargs)

    def registered_routes(self) -> set[tuple[str, str]]:
        """(method, path as OpenAPI names it) of every route this router dispatches to."""
        return {(method, openapi_path(rule)) for method, rule in self._scopes}

    def _call_route(self, route: Route, route_arguments: dict[str, str]) -> ResponseBuilder[Any]:
        key = (route.method.upper(), route.path)
        if key not in self._scopes:  # never registered here: nothing says who may call it
            return self._refused(NO_ROUTE_REFUSAL, route)
        scope, event = self._scopes[key], self.current_event.raw_event
        cost = self._costs[key](event) if key in self._costs else 1
        refusal = None if scope is None else self._gate(event, scope, cost)
        if refusal is not None:
            return self._refused(refusal, route)
        return super()._call_route(route, route_arguments)

    def _handle_not_found(self, method: str, path: str) -> ResponseBuilder[Any]:
        # Answered here, not through powertools' not-found route and its middlewares.
        return self._refused(NO_ROUTE_REFUSAL, None)

    async def _call_route_async(self, route: Route, route_arguments: dict[str, str]) -> NoReturn:
        raise NotImplementedError("resolve_async would skip the access check: use resolve")

    def _refused(self, refusal: Rejection, route: Route | None) -> ResponseBuilder[Any]:
        return self._response_builder_class(
            response=refusal_response(refusal), serializer=self._serializer, route=route
        )


def refusal_response(refusal: Rejection) -> Response[str]:
    return Response(
        status_code=int(refusal.status),
        content_type=content_types.APPLICATION_JSON,
        body=rejection_body(refusal),
        headers=dict(refusal.headers),
    )


def time_left(context: LambdaContext | None) -> Callable[[], float]:
    """Seconds the invocation has left (none without a Lambda context: nothing is done in the request)."""
    if context is None:
        return lambda: 0.0
    return lambda: context.get_remaining_time_in_millis() / 1000


def html_page(page: str) -> Response[str]:
    return Response(status_code=HTTPStatus.OK, content_type=content_types.TEXT_HTML, body=page)
