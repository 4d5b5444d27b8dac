"""Input the router or PostgreSQL would refuse with an exception gets a 4xx that names the field and
the problem, and changes nothing: the HTTP entry point on the real database, as API Gateway calls it."""

import base64
import json
import uuid
from typing import Any

import pytest

from notify.adapters.postgres import PostgresStore
from notify.entrypoints.http import handle
from tests.integration.conftest import Api
from tests.integration.support import CONTEXT, make_movie, make_user, rest_event, table_counts

MOVIE = "681b5d6a-8e54-454c-873d-4eb57271c98b"


def _raw(fields: str) -> str:
    """A movies body written by hand: JSON escapes and numbers that json.dumps would not write."""
    return '[{"movie_id": "' + MOVIE + '", ' + fields + "}]"


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _users(**fields: Any) -> str:
    return json.dumps([{"user_id": str(uuid.uuid4()), **fields}])


def _movies(**fields: Any) -> str:
    return json.dumps([{"movie_id": MOVIE, "title": "ok", **fields}])


# name: (method, path, body, headers, query, base64, status, loc)
CASES: dict[str, tuple[str, str, str | bytes | None, dict[str, str], dict[str, str], int, list[Any]]] = {
    "body_not_utf8": ("POST", "/events", b"\xff\xfe{", {}, {}, 400, ["body"]),
    "nul_in_a_string": (
        "PUT",
        "/directory/movies",
        _raw('"title": "t\\u0000x"'),
        {},
        {},
        422,
        ["body", 0, "title"],
    ),
    "nul_in_a_key": (
        "PUT",
        "/directory/movies",
        _raw('"title": "t", "x\\u0000": 1'),
        {},
        {},
        422,
        ["body", 0, "x\x00"],
    ),
    "lone_surrogate": (
        "PUT",
        "/directory/users",
        json.dumps([{"user_id": str(uuid.uuid4()), "first_name": "\ud800"}]),
        {},
        {},
        422,
        ["body", 0, "first_name"],
    ),
    "multipart_without_boundary": (
        "PUT",
        "/directory/movies",
        _movies(),
        {"Content-Type": "multipart/form-data"},
        {},
        415,
        ["header", "Content-Type"],
    ),
    "form_on_a_json_route": (
        "POST",
        "/events",
        "event_type=new_episode",
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},
        415,
        ["header", "Content-Type"],
    ),
    "text_plain": (
        "PATCH",
        f"/schedules/{uuid.uuid4()}",
        '{"state": "paused"}',
        {"Content-Type": "text/plain"},
        {},
        415,
        ["header", "Content-Type"],
    ),
    "int_past_integer_column": (
        "PUT",
        "/directory/movies",
        _movies(season=10**20),
        {},
        {},
        422,
        ["body", 0, "season"],
    ),
    "float_overflow": (
        "PUT",
        "/directory/movies",
        _raw('"title": "t", "episode": 1e400'),
        {},
        {},
        422,
        ["body", 0, "episode"],
    ),
    "nul_in_a_query": ("GET", "/schedules", None, {}, {"cursor": "a\x00b"}, 422, ["query", "cursor"]),
    "nul_in_a_header": (
        "POST",
        "/events",
        "{}",
        {"Idempotency-Key": "k\x00"},
        {},
        400,
        ["header", "Idempotency-Key"],
    ),
    "not_a_uuid_in_the_path": (
        "GET",
        "/users/not-a-uuid/preferences",
        None,
        {},
        {},
        422,
        ["path", "user_id"],
    ),
    "nested_deeper_than_json_parses": (
        "PUT",
        "/directory/users",
        "[" * 200_000 + "]" * 200_000,
        {},
        {},
        422,
        ["body"],
    ),
    # Cursors and path parameters are checked after decoding: base64 and percent-encoding hide a NUL
    # from the check of the raw request.
    "nul_in_a_suppressions_cursor": (
        "GET",
        "/suppressions",
        None,
        {},
        {"cursor": _cursor("email:\x00x")},
        422,
        ["query", "cursor"],
    ),
    "unknown_channel_in_a_suppressions_cursor": (
        "GET",
        "/suppressions",
        None,
        {},
        {"cursor": _cursor("fax:a@example.com")},
        422,
        ["query", "cursor"],
    ),
    "nul_in_a_notifications_cursor_channel": (
        "GET",
        f"/events/{uuid.uuid4()}/notifications",
        None,
        {},
        {"cursor": _cursor(f"e\x00mail:{uuid.uuid4()}")},
        422,
        ["query", "cursor"],
    ),
    "unknown_channel_in_a_notifications_cursor": (
        "GET",
        f"/events/{uuid.uuid4()}/notifications",
        None,
        {},
        {"cursor": _cursor(f"pigeon:{uuid.uuid4()}")},
        422,
        ["query", "cursor"],
    ),
    "another_listings_cursor": (
        "GET",
        "/schedules",
        None,
        {},
        {"cursor": _cursor(f"subscribers:{uuid.uuid4()}")},
        422,
        ["query", "cursor"],
    ),
    "nul_in_a_topics_cursor": (
        "GET",
        "/topics",
        None,
        {},
        {"cursor": _cursor("topics:a\x00")},
        422,
        ["query", "cursor"],
    ),
    "nul_in_a_subscribers_cursor": (
        "GET",
        "/topics/all/subscribers",
        None,
        {},
        {"cursor": _cursor("subscribers:\x00")},
        422,
        ["query", "cursor"],
    ),
    # Python's uuid.UUID reads spellings PostgreSQL's uuid does not (urn:uuid:…): not a cursor it gave out.
    "urn_uuid_in_a_schedules_cursor": (
        "GET",
        "/schedules",
        None,
        {},
        {"cursor": _cursor(f"schedule:urn:uuid:{uuid.uuid4()}")},
        422,
        ["query", "cursor"],
    ),
    "urn_uuid_in_a_notifications_cursor": (
        "GET",
        f"/events/{uuid.uuid4()}/notifications",
        None,
        {},
        {"cursor": _cursor(f"email:urn:uuid:{uuid.uuid4()}")},
        422,
        ["query", "cursor"],
    ),
    "cursor_not_base64": ("GET", "/suppressions", None, {}, {"cursor": "%%%"}, 422, ["query", "cursor"]),
    "nul_in_an_encoded_address": (
        "PUT",
        "/suppressions/email/a%00b%40example.com",
        None,
        {},
        {},
        422,
        ["path", "address"],
    ),
    "nul_in_an_encoded_push_token": (
        "DELETE",
        "/suppressions/push/tok%00en",
        None,
        {},
        {},
        422,
        ["path", "address"],
    ),
    "line_break_in_an_encoded_address": (
        "PUT",
        "/suppressions/email/a%0D%0Ab%40example.com",
        None,
        {},
        {},
        422,
        ["path", "address"],
    ),
    # Whatever reaches a message header is one line: the directory refuses a control character.
    "header_injection_in_a_title": (
        "PUT",
        "/directory/movies",
        _movies(title="Dune\r\nBcc: x@evil.example"),
        {},
        {},
        422,
        ["body", 0, "title"],
    ),
    "line_feed_in_a_first_name": (
        "PUT",
        "/directory/users",
        _users(first_name="Ann\nBcc: x@evil.example"),
        {},
        {},
        422,
        ["body", 0, "first_name"],
    ),
    "line_separator_in_a_last_name": (
        "PUT",
        "/directory/users",
        _users(last_name="Lee\u2028X"),
        {},
        {},
        422,
        ["body", 0, "last_name"],
    ),
    "carriage_return_in_an_email": (
        "PUT",
        "/directory/users",
        _users(email="a@example.com\r\nX-Injected: 1"),
        {},
        {},
        422,
        ["body", 0, "email"],
    ),
    "escape_in_a_push_token": (
        "PUT",
        "/directory/users",
        _users(push_token="tok\x1ben"),
        {},
        {},
        422,
        ["body", 0, "push_token"],
    ),
    "over_the_size_limit": ("PUT", "/directory/movies", "[" + " " * 6_000_001 + "]", {}, {}, 413, ["body"]),
}


def _call(
    api: Api,
    method: str,
    path: str,
    body: str | bytes | None,
    headers: dict[str, str],
    query: dict[str, str],
) -> dict[str, Any]:
    text = base64.b64encode(body).decode() if isinstance(body, bytes) else body
    keyed = {"Authorization": f"Bearer {api.api_key}", **headers}
    event = rest_event(method, path, body=text, headers=keyed, query=query or None)
    event["isBase64Encoded"] = isinstance(body, bytes)
    answer: dict[str, Any] = handle(event, CONTEXT)
    return answer


@pytest.mark.parametrize("case", sorted(CASES))
def test_http_hostile_input_is_a_4xx_naming_the_field_and_changes_nothing(
    api: Api, store: PostgresStore, pg_dsn: str, case: str
) -> None:
    store.upsert_users([make_user()])
    store.upsert_movies([make_movie()])
    before = table_counts(pg_dsn)
    method, path, body, headers, query, status, loc = CASES[case]

    answer = _call(api, method, path, body, headers, query)

    assert answer["statusCode"] == status, answer["body"][:300]
    errors = json.loads(answer["body"])["errors"]
    assert errors[0]["loc"][: len(loc)] == loc, errors
    assert errors[0]["msg"]
    assert table_counts(pg_dsn) == before
    assert api.publisher.published == []


def test_http_user_ids_only_in_spellings_postgresql_reads_too(api: Api, store: PostgresStore) -> None:
    """uuid.UUID reads `urn:uuid:…` and hyphens anywhere; PostgreSQL refuses both with an error."""
    user, movie = make_user(), make_movie()
    store.upsert_users([user])
    store.upsert_movies([movie])
    unknown = f"{{{str(uuid.uuid4()).upper()}}}"

    def post(users: list[str]) -> dict[str, Any]:
        body = {
            "event_type": "new_episode",
            "created_dt": "2026-01-01T10:00:00+00:00",
            "payload": {"user": users, "content": [str(movie.movie_id)]},
        }
        return _call(api, "POST", "/events", json.dumps(body), {}, {})

    urn = post([str(user.user_id), f"urn:uuid:{user.user_id}"])
    hyphens = post([str(user.user_id), "-".join(user.user_id.hex)])
    braced = post([user.user_id.hex, unknown])

    for refused in (urn, hyphens):
        assert refused["statusCode"] == 422, refused["body"][:300]
        assert json.loads(refused["body"])["errors"][0]["loc"] == ["body", "payload", "user", 1]
    assert braced["statusCode"] == 202, braced["body"][:300]
    assert json.loads(braced["body"])["skipped_users"] == [unknown]  # as given


def test_http_nul_in_a_multi_value_header_is_refused_like_one_in_a_header(api: Api, pg_dsn: str) -> None:
    """powertools reads multiValueHeaders first: a NUL there must not pass because `headers` is clean."""
    before = table_counts(pg_dsn)
    event = rest_event(
        "POST",
        "/events",
        body="{}",
        headers={"Authorization": f"Bearer {api.api_key}", "Idempotency-Key": "ok"},
    )
    event["multiValueHeaders"]["Idempotency-Key"] = ["a\x00b"]

    answer = handle(event, CONTEXT)

    assert answer["statusCode"] == 400, answer["body"][:300]
    assert json.loads(answer["body"])["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert table_counts(pg_dsn) == before


def test_http_unsubscribe_keeps_taking_the_form_body_of_one_click_clients(api: Api) -> None:
    answer = _call(
        api,
        "POST",
        "/unsubscribe",
        "List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},
    )
    # no token in the query: refused for the token, not for the form
    assert answer["statusCode"] == 422
    assert json.loads(answer["body"])["errors"][0]["loc"] == ["query", "token"]
