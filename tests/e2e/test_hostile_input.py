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
