"""API keys through API Gateway on the deployed stack: every route but the public ones asks for a key,
scopes are enforced, a revoked key stops working within 60 s, the rate limit answers 429."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from notify.entrypoints.http.access import ROUTE_SCOPES
from notify_dev.beyond_schema import path_variant_cases, run
from notify_dev.path_variants import path_variants
from notify_dev.web import http_answer
from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

PROTECTED = sorted((method, path) for (method, path), scope in ROUTE_SCOPES.items() if scope)
SAMPLE_IDS = {
    "{event_id}": str(uuid.uuid4()),
    "{schedule_id}": str(uuid.uuid4()),
    "{user_id}": str(uuid.uuid4()),
}


def concrete(path: str) -> str:
    for name, value in SAMPLE_IDS.items():
        path = path.replace(name, value)
    return path.replace("{key_id}", "0123456789ab")


def call(
    api: Api, method: str, path: str, key: str | None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if body is None and method in {"POST", "PUT", "PATCH"}:
        body = {}
    return http_answer(method, f"{api.base_url}{path}", body, headers)


def challenge(headers: dict[str, str]) -> str:
    # Real REST API Gateway hands a proxied WWW-Authenticate on as x-amzn-Remapped-WWW-Authenticate.
    return headers.get("www-authenticate") or headers.get("x-amzn-remapped-www-authenticate", "")


@pytest.fixture
def made_keys(api: Api) -> Iterator[list[str]]:
    """Ids of keys a test makes through POST /keys; revoked afterwards."""
    made: list[str] = []
    yield made
    for key_id in made:
        api.request("DELETE", f"/keys/{key_id}")


def make_key(api: Api, made: list[str], scopes: list[str], rate: int | None = None) -> dict[str, Any]:
    status, key = api.request(
        "POST", "/keys", {"name": f"e2e {uuid.uuid4()}", "scopes": scopes, "rate_per_minute": rate}
    )
    assert status == 201, key
    made.append(key["id"])
    return dict(key)


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_auth_route_without_a_key_is_401_through_api_gateway(api: Api, method: str, path: str) -> None:
    status, headers, answer = call(api, method, concrete(path), None)

    assert status == 401, answer
    assert challenge(headers).startswith("Bearer"), headers
    assert answer["errors"][0]["loc"] == ["header", "Authorization"]


def test_auth_key_of_another_scope_is_403_on_every_other_route(api: Api, made_keys: list[str]) -> None:
    reader = make_key(api, made_keys, ["events:read"])
    refused = {}
    for method, path in PROTECTED:
        if ROUTE_SCOPES[(method, path)] == "events:read":
            continue
        status, _, answer = call(api, method, concrete(path), reader["key"])
        refused[(method, path)] = (status, ROUTE_SCOPES[(method, path)] in answer["errors"][0]["msg"])

    assert set(refused.values()) == {(403, True)}, refused
    status, _, answer = call(api, "GET", concrete("/events/{event_id}"), reader["key"])
    assert status == 404, answer  # its own scope: through to the route


def test_auth_revoked_key_stops_working_within_60_s(api: Api, made_keys: list[str]) -> None:
    key = make_key(api, made_keys, ["events:read"])
    path = concrete("/events/{event_id}")
    assert call(api, "GET", path, key["key"])[0] == 404  # works (and is now remembered by the function)

    status, _ = api.request("DELETE", f"/keys/{key['id']}")
    revoked_at = time.monotonic()
    assert status == 204
    while call(api, "GET", path, key["key"])[0] != 401:
        assert time.monotonic() - revoked_at < 60, "the revoked key still works after 60 s"
        time.sleep(2)
    _, listed = api.request("GET", "/keys")
    assert {k["id"]: k["revoked_at"] is not None for k in listed["keys"]}[key["id"]] is True


def test_auth_rate_limit_is_429_with_retry_after(api: Api, made_keys: list[str]) -> None:
    key = make_key(api, made_keys, ["events:read"], rate=5)
    path = concrete("/events/{event_id}")

    statuses = [call(api, "GET", path, key["key"])[0] for _ in range(5)]
    status, headers, answer = call(api, "GET", path, key["key"])

    assert statuses == [404] * 5
    assert status == 429, answer
    assert 1 <= int(headers["retry-after"]) <= 60


def test_auth_public_routes_need_no_key(api: Api) -> None:
    assert call(api, "GET", "/health", None)[0] == 200
    status, _, document = call(api, "GET", "/openapi.json", None)
    assert status == 200
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert call(api, "GET", "/unsubscribe?token=x", None)[0] == 400  # its own signed token, not a key


# ---- Path variants through API Gateway (issue 25): never a handler without the key its route needs


def test_auth_no_path_variant_reaches_a_handler_without_a_key(api: Api) -> None:
    cases = path_variant_cases(None)

    failures = run(api.base_url, cases)

    assert len(cases) > 1000
    assert [(case.name, problem) for case, problem in failures] == []


def test_auth_narrow_key_reaches_no_other_route_and_makes_no_key_through_any_variant(
    api: Api, made_keys: list[str]
) -> None:
    reader = make_key(api, made_keys, ["events:read"])
    _, before = api.request("GET", "/keys")
    cases = path_variant_cases(reader["key"], reader["scopes"])

    failures = run(api.base_url, cases)
    posts = {case.target for case in cases if case.method == "POST"} & set(path_variants("/keys"))
    _, after = api.request("GET", "/keys")

    assert [(case.name, problem) for case, problem in failures] == []
    assert posts == set(path_variants("/keys"))  # every variant of POST /keys was tried
    assert {key["id"] for key in after["keys"]} == {key["id"] for key in before["keys"]}
