"""The HTTP API through API Gateway: bad input gets its 4xx (and sends nothing), reads and docs work."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from notify_dev.stores import emails_to
from notify_dev.web import http
from tests.e2e.conftest import event

pytestmark = pytest.mark.e2e


def errors_at(answer: dict[str, Any], *loc_prefix: object) -> bool:
    return any(tuple(e["loc"][: len(loc_prefix)]) == loc_prefix for e in answer["errors"])


def test_health_and_openapi(api):
    status, health = api.request("GET", "/health")
    assert (status, health["status"], health["database"], health["broker"]) == (200, "ok", "ok", "ok")
    # Other tests (the fault suite's oversized-outbox) may leave parked messages on the stack.
    assert isinstance(health["outbox"]["parked"], int)
    status, spec = api.request("GET", "/openapi.json")
    assert status == 200
    assert {"/events", "/events/{event_id}", "/directory/users"} <= set(spec["paths"])


def test_malformed_json_is_422(api):
    status, answer = http(
        "POST",
        f"{api.base_url}/events",
        b'{"event_type": "new_episode",',
        {"Content-Type": "application/json", **api.auth},
    )
    assert status == 422, answer
    assert any("JSON" in e["msg"] for e in answer["errors"])


# The requests that crashed the function through API Gateway before request_guard (issue 12).
HOSTILE = {
    "body_not_utf8": ("POST", "/events", b"\xff\xfe{", "application/json", 400, ("body",)),
    "nul_in_a_title": (
        "PUT",
        "/directory/movies",
        b'[{"movie_id": "681b5d6a-8e54-454c-873d-4eb57271c98b", "title": "t\\u0000x"}]',
        "application/json",
        422,
        ("body", 0, "title"),
    ),
    "multipart_without_boundary": (
        "PUT",
        "/directory/movies",
        b'[{"movie_id": "681b5d6a-8e54-454c-873d-4eb57271c98b", "title": "ok"}]',
        "multipart/form-data",
        415,
        ("header", "Content-Type"),
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_through_api_gateway_is_a_4xx_naming_the_field(api, case):
    """That nothing changed is checked on the database by tests/integration/test_hostile_input.py."""
    method, path, body, content_type, expected, loc = HOSTILE[case]
    status, answer = http(method, f"{api.base_url}{path}", body, {"Content-Type": content_type, **api.auth})
    assert status == expected, answer
    assert errors_at(answer, *loc), answer
    status, health = api.request("GET", "/health")  # the function still answers
    assert (status, health["status"]) == (200, "ok")


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"event_type": "no_such_type"}, ("body", "event_type")),
        ({"priority": 10}, ("body", "priority")),
        ({"schedule": "every minute"}, ("body", "schedule")),
        ({"payload": {"user": [], "content": []}}, ("body", "payload", "user")),
        ({"payload": {"user": ["not-a-uuid"], "content": []}}, ("body", "payload", "user", 0)),
        ({"unexpected": 1}, ("body", "unexpected")),
    ],
)
def test_invalid_event_is_422_naming_the_field(api, make_users, movie, change, loc):
    [user] = make_users()
    status, answer = api.request("POST", "/events", event("new_episode", [user], movie) | change)
    assert status == 422, answer
    assert errors_at(answer, *loc), answer


def test_unknown_movie_is_422_and_nothing_is_sent(api, make_users):
    [user] = make_users()
    unknown = str(uuid.uuid4())
    body = event("new_episode", [user], {"movie_id": unknown})

    status, answer = api.request("POST", "/events", body)

    assert status == 422, answer
    assert errors_at(answer, "body", "payload", "content", 0)
    assert unknown in answer["errors"][0]["msg"]
    assert emails_to(user["email"]) == []


def test_unknown_and_malformed_event_ids(api):
    status, answer = api.request("GET", f"/events/{uuid.uuid4()}")
    assert status == 404, answer
    status, answer = api.request("GET", f"/events/{uuid.uuid4()}/notifications")
    assert status == 404, answer
    status, answer = api.request("GET", "/events/not-a-uuid")
    assert status == 422, answer


def test_a_bad_directory_row_rejects_the_whole_put(api):
    good = {"user_id": str(uuid.uuid4()), "email": "fine@e2e.example"}
    bad = {"user_id": str(uuid.uuid4()), "phone": "12345"}

    status, answer = api.request("PUT", "/directory/users", [good, bad])

    assert status == 422, answer
    assert errors_at(answer, "body", 1, "phone")


def test_an_unknown_route_is_refused_by_the_gateway(api):
    status, _ = api.request("GET", "/no-such-route")
    assert status in {403, 404}
    status, _ = api.request("DELETE", "/events")
    assert status in {403, 404, 405}
