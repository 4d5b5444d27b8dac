"""Access to the HTTP API: each route's scope, 401/403/429 before the router, the OpenAPI security."""

import copy
import json
import uuid
from typing import Any

import pytest

from notify.bootstrap import Services
from notify.entrypoints import http
from notify.entrypoints.access import BEARER_SCHEME, ROUTE_SCOPES, required_scope
from notify.key_ports import Scope
from notify.models import DEFAULT_RATE_PER_MINUTE
from tests.fakes import FakeEventStore, FakePublisher
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
        assert call(method, concrete(path), key)[0] == 299
    assert len(routed) == 2


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in PUBLIC if p != "/unsubscribe"])
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


def test_access_required_scope_matches_paths_not_prefixes() -> None:
    assert required_scope("GET", "/events/abc") == (True, Scope.EVENTS_READ)
    assert required_scope("GET", "/events/abc/notifications") == (True, Scope.EVENTS_READ)
    assert required_scope("GET", "/events/abc/other") == (False, None)
    assert required_scope("POST", "/events/") == (True, Scope.EVENTS_WRITE)
    assert required_scope("GET", "/health") == (True, None)


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
