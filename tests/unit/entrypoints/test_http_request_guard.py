"""request_guard.screen_request on its own: what reaches the router and what is answered before it."""

import base64
from http import HTTPStatus
from typing import Any

from notify.entrypoints.http.request_guard import MAX_BODY_BYTES, events_in_batch, screen_request
from notify.events import MAX_BATCH_BYTES
from tests.fakes import FakeEventStore
from tests.unit.api_calls import call, install_fakes, key_with


def event(
    method: str = "PUT", path: str = "/directory/movies", body: str | None = "[]", **more: Any
) -> dict[str, Any]:
    return {"httpMethod": method, "path": path, "resource": path, "body": body, "headers": {}, **more}


def test_screen_request_lets_ordinary_requests_through() -> None:
    assert screen_request(event()) is None
    assert screen_request(event(headers={"Content-Type": "application/json; charset=utf-8"})) is None
    assert screen_request(event(headers={"content-type": "application/merge-patch+json"})) is None
    assert screen_request(event("GET", "/schedules", None, queryStringParameters={"limit": "5"})) is None
    # not JSON at all: the router answers it, naming where the parse stops
    assert screen_request(event(body="{oops")) is None


def test_screen_request_decodes_base64_bodies_before_judging_them() -> None:
    good = event(body=base64.b64encode(b"[]").decode(), isBase64Encoded=True)
    assert screen_request(good) is None
    rejected = screen_request(event(body="@@not base64@@", isBase64Encoded=True))
    assert rejected is not None
    assert (rejected.status, rejected.loc) == (HTTPStatus.BAD_REQUEST, ("body",))


def test_screen_request_takes_a_form_only_where_one_click_unsubscribes_post_one() -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert screen_request(event("POST", "/unsubscribe", "List-Unsubscribe=One-Click", headers=form)) is None
    rejected = screen_request(event("POST", "/events", "a=b", headers=form))
    assert rejected is not None
    assert rejected.status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert "application/json" in rejected.msg
    nul_form = screen_request(event("POST", "/unsubscribe", "a=\x00", headers=form))
    assert nul_form is not None
    assert nul_form.loc == ("body",)


def test_screen_request_names_where_a_nul_is_and_refuses_oversized_bodies() -> None:
    rejected = screen_request(event(body='{"a": [1, {"b": "x\\u0000"}]}'))
    assert rejected is not None
    assert (rejected.status, rejected.loc) == (HTTPStatus.UNPROCESSABLE_ENTITY, ("body", "a", 1, "b"))
    big = screen_request(event(body="[" + " " * MAX_BODY_BYTES + "]"))
    assert big is not None
    assert big.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    path = screen_request(event("GET", "/x", None, pathParameters={"event_id": "\x00"}))
    assert path is not None
    assert path.loc == ("path", "event_id")


def test_a_batch_is_measured_against_its_own_limit_however_it_is_encoded() -> None:
    just_over = '{"events": []}'.ljust(MAX_BATCH_BYTES + 1)
    for body, encoded in ((just_over, False), (base64.b64encode(just_over.encode()).decode(), True)):
        rejected = screen_request(event("POST", "/events/batch", body, isBase64Encoded=encoded))
        assert rejected is not None
        assert (rejected.status, rejected.loc) == (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, ("body",))
    # the same size elsewhere is under the API's own limit
    assert screen_request(event("POST", "/events", just_over)) is None


def test_a_batch_costs_its_events_whatever_its_body_holds() -> None:
    def cost(body: str | None, **more: Any) -> int:
        return events_in_batch(event("POST", "/events/batch", body, **more))

    assert cost('{"events": [1, 2, 3]}') == 3
    assert cost(base64.b64encode(b'{"events": [1, 2]}').decode(), isBase64Encoded=True) == 2
    assert cost('{"events": [' + ",".join(["1"] * 100) + "]}") == 100
    assert cost('\ufeff{"events": [1, 2]}') == 1  # the router refuses a BOM whole
    assert cost('{"events": [' + ",".join(["1"] * 500) + "]}") == 1  # refused whole: one request
    for odd in (None, "", "{oops", "[]", '{"events": {}}', '{"events": []}', "@@", "\udcff", "[" * 100_000):
        assert cost(odd) == 1, odd
    assert cost("@@", isBase64Encoded=True) == 1


def test_every_json_content_type_the_guard_takes_reaches_the_handler_as_json() -> None:
    """powertools refused `+json` types and upper case with a 415 of its own (not ErrorList)."""
    store = FakeEventStore()
    install_fakes(store)
    key = key_with(store, "admin")
    for content_type in (
        "application/merge-patch+json",
        "Application/JSON",
        "application/json; charset=UTF-8",
    ):
        status, _, answer = call("PUT", "/directory/movies", key, [], content_type=content_type)
        assert (status, answer) == (200, {"upserted": 0}), content_type
