"""Hostile input through API Gateway (issue 25): what would reach a message header as two lines is
refused at the directory, and cursors and path parameters that decode to a NUL are 4xx naming them."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/directory/movies", [{"title": "Dune\r\nBcc: x@evil.example"}], ["body", 0, "title"]),
        ("/directory/users", [{"first_name": "Ann\nBcc: x@evil.example"}], ["body", 0, "first_name"]),
        ("/directory/users", [{"email": "a@example.com\r\nX-Injected: 1"}], ["body", 0, "email"]),
    ],
)
def test_hostile_line_break_that_would_reach_a_header_is_refused_naming_the_field(
    api: Api, path: str, body: list[dict[str, str]], loc: list[object]
) -> None:
    key = "movie_id" if path.endswith("movies") else "user_id"
    status, answer = api.request("PUT", path, [{key: str(uuid.uuid4()), **body[0]}])

    assert status == 422, answer
    assert answer["errors"][0]["loc"] == loc


@pytest.mark.parametrize(
    ("method", "path", "loc"),
    [
        ("GET", f"/suppressions?cursor={cursor('email:' + chr(0) + 'x')}", ["query", "cursor"]),
        (
            "GET",
            f"/events/{uuid.uuid4()}/notifications?cursor={cursor(f'e{chr(0)}mail:{uuid.uuid4()}')}",
            ["query", "cursor"],
        ),
        ("GET", f"/schedules?cursor={cursor(f'topics:{uuid.uuid4()}')}", ["query", "cursor"]),
        ("GET", f"/topics?cursor={cursor('topics:a' + chr(0))}", ["query", "cursor"]),
        ("PUT", "/suppressions/email/a%00b%40example.com", ["path", "address"]),
        ("DELETE", "/suppressions/push/tok%00en", ["path", "address"]),
    ],
)
def test_hostile_nul_behind_an_encoding_is_a_4xx_naming_the_parameter(
    api: Api, method: str, path: str, loc: list[str]
) -> None:
    status, answer = api.request(method, path)

    assert 400 <= status < 500, answer
    assert answer["errors"][0]["loc"] == loc


def test_hostile_content_larger_than_a_message_is_422_and_nothing_is_parked(api: Api) -> None:
    """40 users × 1,000 long titles parked 40 messages and sent nothing: now refused at the door."""
    movies = [{"movie_id": str(uuid.uuid4()), "title": "T" * 500} for _ in range(1000)]
    user = str(uuid.uuid4())
    assert api.request("PUT", "/directory/movies", movies)[0] == 200
    assert (
        api.request("PUT", "/directory/users", [{"user_id": user, "email": f"{user}@example.com"}])[0] == 200
    )
    body = {
        "event_type": "new_releases_promo",
        "created_dt": "2026-01-01T10:00:00+00:00",
        "payload": {"user": [user], "content": [movie["movie_id"] for movie in movies]},
    }

    status, answer = api.request("POST", "/events", body)
    _, health = api.request("GET", "/health")

    assert status == 422, answer
    assert answer["errors"][0]["loc"] == ["body", "payload", "content"]
    assert health["outbox"]["parked"] == 0
