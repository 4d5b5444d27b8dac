"""Access to the HTTP API: each route's scope, 401/403/429 before the router, the OpenAPI security."""

import copy
import json
import re
import uuid
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from notify.access.models import DEFAULT_RATE_PER_MINUTE
from notify.access.ports import Scope
from notify.bootstrap import Services
from notify.entrypoints import http
from notify.entrypoints.http.access import ROUTE_SCOPES
from notify.entrypoints.http.openapi import BEARER_SCHEME
from notify.entrypoints.http.router import GatedRestResolver, UndeclaredRoute
from notify_dev.path_variants import concrete as sample_path
from notify_dev.path_variants import path_variants
from tests.fakes import FakeEventStore, FakeLambdaContext, FakePublisher
from tests.unit.api_calls import call, install_fakes, key_with

PROTECTED = sorted((method, path, scope) for (method, path), scope in ROUTE_SCOPES.items() if scope)
PUBLIC = sorted((method, path) for (method, path), scope in ROUTE_SCOPES.items() if scope is None)


@pytest.fixture
def store() -> FakeEventStore:
    return FakeEventStore()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture(autouse=True)
def installed(store: FakeEventStore, publisher: FakePublisher) -> Services:
    return install_fakes(store, publisher)


def concrete(path: str) -> str:
    return (
        path.replace("{key_id}", "0123456789ab")
        .replace("{", "")
        .replace("}", "")
        .replace("event_id", str(uuid.uuid4()))
        .replace("schedule_id", str(uuid.uuid4()))
        .replace("user_id", str(uuid.uuid4()))
    )


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
@pytest.mark.parametrize(
    "presented",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-key", "Bearer nk_0123456789ab_" + "x" * 43],
)
def test_access_route_without_a_usable_key_is_401_with_a_challenge(
    store: FakeEventStore,
    publisher: FakePublisher,
    method: str,
    path: str,
    scope: Scope,
    presented: str | None,
) -> None:
    status, headers, body = call(
        method, concrete(path), presented, body={} if method in {"POST", "PUT", "PATCH"} else None
    )

    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    assert body["errors"][0]["loc"] == ["header", "Authorization"]
    assert publisher.published == []
    assert store.api_keys == {}
    assert store.events == {}


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_access_route_with_a_key_of_another_scope_is_403_naming_the_scope(
    store: FakeEventStore, method: str, path: str, scope: Scope
) -> None:
    other = next(s for s in Scope if s not in (scope, Scope.ADMIN))
    key = key_with(store, other)
    before = copy.deepcopy(vars(store))
    status, _, body = call(method, concrete(path), key, body={} if method != "GET" else None)

    assert status == 403
    assert str(scope) in body["errors"][0]["msg"]
    after, key_use = vars(store), {"api_keys", "touches"}  # the key's last use is recorded
    assert {name: after[name] for name in after if name not in key_use} == {
        name: before[name] for name in before if name not in key_use
    }


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_access_route_with_its_scope_or_admin_reaches_the_router(
    store: FakeEventStore, monkeypatch: pytest.MonkeyPatch, method: str, path: str, scope: Scope
) -> None:
    routed: list[str] = []

    def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        routed.append(event["path"])
        return {"statusCode": 299, "headers": {}, "body": "", "isBase64Encoded": False}

    monkeypatch.setattr(http.app, "resolve", resolve)
    for key in (key_with(store, scope), key_with(store, Scope.ADMIN)):
        assert call(method, concrete(path), key, checked=False)[0] == 299
    assert len(routed) == 2


# The links in e-mails (unsubscribe, tracked links) carry a signed token of their own: tests below.
OWN_TOKEN = ("/unsubscribe", "/t/{token}")


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in PUBLIC if p not in OWN_TOKEN])
def test_access_public_route_needs_no_key(method: str, path: str) -> None:
    status, _, _ = call(method, path)

    assert status == 200


def test_access_unsubscribe_keeps_its_own_token_and_needs_no_key() -> None:
    status, _, body = call("GET", "/unsubscribe")

    assert status == 422  # the token is missing, not a key
    assert body["errors"][0]["loc"] == ["query", "token"]


def test_access_revoked_key_is_401(store: FakeEventStore) -> None:
    key = key_with(store, Scope.EVENTS_READ)
    assert call("GET", f"/events/{uuid.uuid4()}", key)[0] == 404
    status, _, _ = call("DELETE", f"/keys/{key[3:15]}", key_with(store, Scope.ADMIN))
    assert status == 204

    status, _, body = call("GET", f"/events/{uuid.uuid4()}", key)

    assert status == 401
    assert "revoked" in body["errors"][0]["msg"]


def test_access_rate_limit_answers_429_with_retry_after(store: FakeEventStore) -> None:
    key = key_with(store, Scope.EVENTS_READ, rate=3)
    path = f"/events/{uuid.uuid4()}"

    statuses = [call("GET", path, key)[0] for _ in range(3)]
    status, headers, body = call("GET", path, key)

    assert statuses == [404, 404, 404]
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 60
    assert "rate limit" in body["errors"][0]["msg"]


def test_access_unknown_route_is_404_without_a_key() -> None:
    assert call("GET", "/nowhere")[0] == 404


def test_access_router_dispatches_exactly_the_routes_of_the_access_table() -> None:
    assert http.app.registered_routes() == set(ROUTE_SCOPES)


def test_access_route_without_an_entry_in_the_table_cannot_be_registered() -> None:
    app = GatedRestResolver(
        access={("GET", "/known/{thing}"): Scope.ADMIN}, gate=lambda event, scope, cost: None
    )
    app.get("/known/<thing>")(lambda thing: thing)

    with pytest.raises(UndeclaredRoute, match=re.escape("POST /known/{thing}")):
        app.post("/known/<thing>")(lambda thing: thing)
    with pytest.raises(UndeclaredRoute, match="GET /unknown"):
        app.get("/unknown")(lambda: None)


def test_access_route_registered_around_the_table_is_refused_not_run() -> None:
    """Fail closed: a route that reached powertools without passing through the table's registration
    (a future refactor, a Router included some other way) is never called."""
    called: list[str] = []
    app = GatedRestResolver(access={}, gate=lambda event, scope, cost: None)
    APIGatewayRestResolver.route(app, "/sneaky", "GET")(lambda: called.append("ran"))
    event = {"path": "/sneaky", "httpMethod": "GET", "headers": {}, "requestContext": {"stage": "v1"}}

    answer = app.resolve(event, FakeLambdaContext())  # type: ignore[arg-type]

    assert (answer["statusCode"], json.loads(answer["body"])) == (
        404,
        {"errors": [{"loc": ["path"], "msg": "no such route"}]},
    )
    assert called == []


def test_access_not_found_route_has_the_errors_shape() -> None:
    status, _, body = call("GET", "/nowhere")

    assert (status, body) == (404, {"errors": [{"loc": ["path"], "msg": "no such route"}]})


def test_access_openapi_declares_bearer_on_protected_operations_and_none_on_public() -> None:
    status, _, document = call("GET", "/openapi.json")

    assert status == 200
    assert document["components"]["securitySchemes"][BEARER_SCHEME] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"][BEARER_SCHEME]["description"],
    }
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    for (method, path), operation in operations.items():
        scope = ROUTE_SCOPES[(method, path)]
        if scope is None:
            assert operation["security"] == []
        else:
            assert operation["security"] == [{BEARER_SCHEME: []}]
            assert {"401", "403", "429"} <= set(operation["responses"])
            assert str(scope) in operation["description"]
        if method in {"POST", "PUT", "PATCH"}:
            assert {"413", "415"} <= set(operation["responses"])
    assert ("POST", "/keys") in operations
    assert ("DELETE", "/keys/{key_id}") in operations


# ---- Path variants: trailing and doubled slashes, percent-encoded separators and letters, letter case,
# dot segments, empty segments and stray characters never reach a protected handler without a key ------


def _body(method: str, path: str) -> Any:
    if method not in {"POST", "PUT", "PATCH"}:
        return None
    if path == "/keys":
        return {"name": "x", "scopes": ["admin"]}
    return {}


def _refused_without_a_handler(status: int, headers: dict[str, str], body: Any, *, keyed: bool) -> bool:
    """401 from the access check (403 with a key of the wrong scope), or the router's own 404 for a
    path it resolves to no route: never an answer a handler or its validation gave."""
    if status == 404:
        return bool(body == {"errors": [{"loc": ["path"], "msg": "no such route"}]})
    if keyed:
        return status == 403 and bool(body["errors"][0]["loc"] == ["header", "Authorization"])
    return status == 401 and headers.get("www-authenticate", "").startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_access_no_path_variant_reaches_a_protected_handler_without_a_key(
    store: FakeEventStore, publisher: FakePublisher, method: str, path: str, scope: Scope
) -> None:
    before = copy.deepcopy(vars(store))
    answers = {
        variant: call(method, variant, None, _body(method, path))
        for variant in path_variants(sample_path(path))
    }

    wrong = {
        variant: (answer[0], answer[2])
        for variant, answer in answers.items()
        if not _refused_without_a_handler(*answer, keyed=False)
    }
    assert wrong == {}
    assert vars(store) == before
    assert publisher.published == []


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_access_no_path_variant_reaches_a_handler_with_a_key_of_another_scope(
    store: FakeEventStore, publisher: FakePublisher, method: str, path: str, scope: Scope
) -> None:
    other = next(s for s in Scope if s not in (scope, Scope.ADMIN))
    key = key_with(store, other)
    made = dict(store.api_keys)

    answers = {
        variant: call(method, variant, key, _body(method, path))
        for variant in path_variants(sample_path(path))
    }

    wrong = {
        variant: (answer[0], answer[2])
        for variant, answer in answers.items()
        if not _refused_without_a_handler(*answer, keyed=True)
    }
    assert wrong == {}
    assert store.api_keys.keys() == made.keys()
    assert store.events == {}
    assert publisher.published == []


def test_access_narrow_key_makes_no_key_through_any_variant_of_keys(store: FakeEventStore) -> None:
    narrow = key_with(store, Scope.EVENTS_READ)
    statuses = {
        variant: call("POST", variant, narrow, {"name": "x", "scopes": ["admin"]})[0]
        for variant in path_variants("/keys")
    }

    assert set(statuses.values()) <= {403, 404}
    assert len(store.api_keys) == 1


@pytest.mark.parametrize("variant", ["/keys/", "/keys//", "//keys", "/keys///"])
def test_access_slash_variants_are_the_route_itself_with_its_key(store: FakeEventStore, variant: str) -> None:
    """Normalised once, before the check and the router: the same route, the same scope, the same
    answer with the right key."""
    admin = key_with(store, Scope.ADMIN)

    status, _, body = call("GET", variant, admin)

    assert status == 200
    assert {key["id"] for key in body["keys"]} == set(store.api_keys)


def test_access_event_route_with_a_doubled_slash_needs_its_scope(store: FakeEventStore) -> None:
    event_id = uuid.uuid4()

    assert call("GET", f"/events//{event_id}")[0] == 401
    assert call("GET", f"/events//{event_id}", key_with(store, Scope.EVENTS_READ))[0] == 404
    assert call("GET", f"/events//{event_id}", key_with(store, Scope.TOPICS_READ))[0] == 403


@pytest.mark.parametrize("variant", ["/health/", "//health", "/health//"])
def test_access_public_route_variants_stay_public(variant: str) -> None:
    assert call("GET", variant)[0] == 200


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/keys"), ("PATCH", "/events"), ("PUT", "/health"), ("POST", "/stats")]
)
def test_access_method_a_route_does_not_allow_is_404_without_a_key(
    store: FakeEventStore, method: str, path: str
) -> None:
    status, _, body = call(method, path, None, {} if method in {"POST", "PUT", "PATCH"} else None)

    assert (status, body) == (404, {"errors": [{"loc": ["path"], "msg": "no such route"}]})
    assert store.api_keys == {}


def test_access_variants_cover_every_kind(store: FakeEventStore) -> None:
    variants = path_variants(sample_path("/topics/{topic}/subscribers"))

    assert "/topics/news/subscribers//" in variants
    assert "/topics//news/subscribers" in variants
    assert "/topics%2Fnews/subscribers" in variants
    assert "/%74opics/news/subscribers" in variants
    assert "/TOPICS/NEWS/SUBSCRIBERS" in variants
    assert "/Topics/News/Subscribers" in variants
    assert "/topics/./news/subscribers" in variants
    assert "/topics/x/../news/subscribers" in variants
    assert "/topics/news/subscribers\n" in variants


# ---- /keys -------------------------------------------------------------------------------------


def test_keys_post_shows_the_key_once_and_it_works(store: FakeEventStore) -> None:
    admin = key_with(store, Scope.ADMIN)

    status, _, made = call("POST", "/keys", admin, {"name": "catalogue", "scopes": ["events:write"]})
    _, _, listed = call("GET", "/keys", admin)

    assert status == 201
    assert made["key"].startswith(f"nk_{made['id']}_")
    assert made["scopes"] == ["events:write"]
    assert made["rate_per_minute"] == DEFAULT_RATE_PER_MINUTE
    assert made["id"] in {key["id"] for key in listed["keys"]}
    assert made["key"] not in json.dumps(listed)
    assert "secret_hash" not in json.dumps(listed)
    assert call("POST", "/events", made["key"], {})[0] == 422  # authenticated: the body is what is wrong
    assert call("GET", "/keys", made["key"])[0] == 403


def test_keys_post_null_rate_means_no_limit(store: FakeEventStore) -> None:
    status, _, made = call(
        "POST",
        "/keys",
        key_with(store, Scope.ADMIN),
        {"name": "n", "scopes": ["admin"], "rate_per_minute": None},
    )

    assert status == 201
    assert made["rate_per_minute"] is None
    assert store.api_keys[made["id"]].rate_per_minute is None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "n", "scopes": ["events:delete"]}, ["body", "scopes", 0]),
        ({"name": "n", "scopes": []}, ["body", "scopes"]),
        ({"name": "", "scopes": ["admin"]}, ["body", "name"]),
        ({"name": "n", "scopes": ["admin"], "rate_per_minute": 0}, ["body", "rate_per_minute"]),
        ({"name": "n", "scopes": ["admin"], "rate_per_minute": 2**40}, ["body", "rate_per_minute"]),
        ({"name": "n", "scopes": ["admin"], "owner": "x"}, ["body", "owner"]),
    ],
)
def test_keys_post_bad_body_is_422_naming_the_field(store: FakeEventStore, body: Any, loc: list[Any]) -> None:
    admin = key_with(store, Scope.ADMIN)

    status, _, answer = call("POST", "/keys", admin, body)

    assert status == 422
    assert [error["loc"] for error in answer["errors"]] == [loc]
    assert len(store.api_keys) == 1


def test_keys_delete_unknown_is_404_and_a_bad_id_422(store: FakeEventStore) -> None:
    admin = key_with(store, Scope.ADMIN)

    assert call("DELETE", "/keys/0123456789ab", admin)[0] == 404
    status, _, answer = call("DELETE", "/keys/not-an-id", admin)

    assert status == 422
    assert answer["errors"][0]["loc"] == ["path", "key_id"]


def test_access_tracked_links_keep_their_own_token_and_need_no_key() -> None:
    status, _, body = call("GET", "/t/not-a-token")

    assert status == 400  # the token's verdict, not the key check's 401
    assert body["errors"][0]["loc"] == ["path", "token"]
