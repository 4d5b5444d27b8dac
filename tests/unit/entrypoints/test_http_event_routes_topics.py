"""/topics through the ingest function, and POST /events to a topic: the contract's codes and fields."""

import uuid
from typing import Any

import pytest

from notify.access.ports import Scope
from notify.events.models import DirectoryMovie, DirectoryUser
from tests.fakes import FakeEventStore
from tests.unit.api_calls import call, install_fakes, key_with

MOVIE = uuid.UUID("7c2b3a1e-5d4f-4e6a-9b8c-0d1e2f3a4b5c")
USERS = [uuid.UUID(int=n) for n in range(1, 6)]
UNKNOWN = "d4d4d4d4-0000-4000-8000-000000000004"


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore()
    install_fakes(store)
    store.upsert_users([DirectoryUser(user_id=u, email=f"u{u.int}@example.com") for u in USERS])
    store.upsert_movies([DirectoryMovie(movie_id=MOVIE, title="The Long Night")])
    return store


@pytest.fixture
def writer(store: FakeEventStore) -> str:
    return key_with(store, Scope.TOPICS_WRITE, Scope.TOPICS_READ, Scope.EVENTS_WRITE, Scope.EVENTS_READ)


def event_to(payload: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": "new_episode", "created_dt": "2025-03-14T08:59:00+00:00", "payload": payload}


def test_topics_put_creates_201_then_updates_200_and_get_counts_subscribers(
    store: FakeEventStore, writer: str
) -> None:
    created = call("PUT", "/topics/series:abc", writer, {"description": "The Long Night"})
    subscribed = call("POST", "/topics/series:abc/subscribers", writer, {"add": [str(u) for u in USERS[:3]]})
    updated = call("PUT", "/topics/series:abc", writer)  # no body: the description stays
    _, _, found = call("GET", "/topics/series:abc", writer)

    assert (created[0], created[2]["subscribers"]) == (201, 0)
    assert subscribed[0] == 200
    assert (updated[0], updated[2]["description"]) == (200, "The Long Night")
    assert (found["topic"], found["description"], found["subscribers"]) == ("series:abc", "The Long Night", 3)


def test_topics_subscribers_add_lists_unknown_users_and_remove_counts(
    store: FakeEventStore, writer: str
) -> None:
    call("PUT", "/topics/genre:drama", writer)
    everyone = [str(u) for u in USERS]

    _, _, added = call("POST", "/topics/genre:drama/subscribers", writer, {"add": [*everyone, UNKNOWN]})
    _, _, again = call("POST", "/topics/genre:drama/subscribers", writer, {"add": everyone[:2]})
    _, _, removed = call("POST", "/topics/genre:drama/subscribers", writer, {"remove": everyone[:2]})

    assert (added["added"], added["subscribers"], added["skipped_users"]) == (5, 5, [UNKNOWN])
    assert (again["added"], again["subscribers"]) == (0, 5)  # already subscribed: not counted twice
    assert (removed["removed"], removed["subscribers"]) == (2, 3)
    assert sorted(store.subscribers["genre:drama"]) == USERS[2:]


def test_topics_subscribers_pages_follow_the_cursor(store: FakeEventStore, writer: str) -> None:
    call("PUT", "/topics/genre:drama", writer)
    call("POST", "/topics/genre:drama/subscribers", writer, {"add": [str(u) for u in USERS]})

    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, _, page = call("GET", f"/topics/genre:drama/subscribers{query}", writer)
        assert status == 200
        seen += [item["user_id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break

    assert seen == [str(u) for u in USERS]


def test_topics_list_pages_by_name(store: FakeEventStore, writer: str) -> None:
    for name in ("b", "a", "c"):
        call("PUT", f"/topics/{name}", writer)

    _, _, first = call("GET", "/topics?limit=2", writer)
    _, _, second = call("GET", f"/topics?limit=2&cursor={first['next_cursor']}", writer)

    assert [t["topic"] for t in first["items"]] == ["a", "b"]
    assert [t["topic"] for t in second["items"]] == ["c"]
    assert second["next_cursor"] is None


def test_topics_all_is_built_in_counted_from_the_directory_and_cannot_be_changed(
    store: FakeEventStore, writer: str
) -> None:
    _, _, found = call("GET", "/topics/all", writer)
    put = call("PUT", "/topics/all", writer)
    deleted = call("DELETE", "/topics/all", writer)
    changed = call("POST", "/topics/all/subscribers", writer, {"add": [str(USERS[0])]})

    assert (found["built_in"], found["subscribers"]) == (True, 5)
    assert [put[0], deleted[0], changed[0]] == [409, 409, 409]
    assert store.topics == {}


def test_topics_delete_is_204_then_404(store: FakeEventStore, writer: str) -> None:
    call("PUT", "/topics/series:abc", writer)
    call("POST", "/topics/series:abc/subscribers", writer, {"add": [str(USERS[0])]})

    first = call("DELETE", "/topics/series:abc", writer)
    second = call("DELETE", "/topics/series:abc", writer)
    missing = call("GET", "/topics/series:abc", writer)

    assert [first[0], second[0], missing[0]] == [204, 404, 404]
    assert store.subscribers == {}


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("PUT", "/topics/Series:ABC", None, ["path", "topic"]),
        ("PUT", "/topics/series%20abc", None, ["path", "topic"]),
        ("PUT", "/topics/" + "x" * 201, None, ["path", "topic"]),
        ("PUT", "/topics/ok", {"description": "x" * 1001}, ["body", "description"]),
        ("PUT", "/topics/ok", {"colour": "red"}, ["body", "colour"]),
        ("POST", "/topics/ok/subscribers", {"add": ["not-a-uuid"]}, ["body", "add", 0]),
        (
            "POST",
            "/topics/ok/subscribers",
            {"add": [str(USERS[0])], "remove": [str(USERS[0])]},
            ["body", "remove"],
        ),
        ("GET", "/topics?cursor=Not%20a%20cursor", None, ["query", "cursor"]),
    ],
)
def test_topics_bad_input_is_422_naming_the_field_and_changes_nothing(
    store: FakeEventStore, writer: str, method: str, path: str, body: Any, loc: list[Any]
) -> None:
    store.put_topic("ok", None)

    status, _, answer = call(method, path, writer, body)

    assert status == 422
    assert answer["errors"][0]["loc"] == loc
    assert list(store.topics) == ["ok"]
    assert store.subscribers["ok"] == {}


def test_topics_subscribers_of_an_unknown_topic_is_404(store: FakeEventStore, writer: str) -> None:
    status, _, _ = call("POST", "/topics/nope/subscribers", writer, {"add": [str(USERS[0])]})
    assert status == 404


def test_topics_need_their_scopes(store: FakeEventStore) -> None:
    reader = key_with(store, Scope.TOPICS_READ)
    other = key_with(store, Scope.EVENTS_WRITE)

    put = call("PUT", "/topics/series:abc", reader)
    listed = call("GET", "/topics", other)

    assert (put[0], listed[0]) == (403, 403)
    assert "topics:write" in put[2]["errors"][0]["msg"]
    assert "topics:read" in listed[2]["errors"][0]["msg"]
    assert store.topics == {}


def test_post_event_to_a_topic_is_202_with_its_fan_out(store: FakeEventStore, writer: str) -> None:
    call("PUT", "/topics/series:abc", writer)
    call("POST", "/topics/series:abc/subscribers", writer, {"add": [str(u) for u in USERS[:3]]})

    status, _, answer = call(
        "POST", "/events", writer, event_to({"audience": "series:abc", "content": [str(MOVIE)]})
    )
    _, _, view = call("GET", f"/events/{answer['event_id']}", writer)

    assert status == 202
    assert (answer["status"], answer["recipients"]) == ("queued", 3)
    assert set(answer["fan_out"]) == {"recipients", "done", "complete"}
    assert view["audience"] == "series:abc"
    assert view["fan_out"]["recipients"] == 3


@pytest.mark.parametrize(
    ("payload", "loc", "msg"),
    [
        ({"audience": "series:none"}, ["body", "payload", "audience"], "unknown topic series:none"),
        ({"audience": "series:abc", "user": [str(USERS[0])]}, ["body", "payload"], "exactly one of user"),
        ({"content": []}, ["body", "payload"], "exactly one of user"),
    ],
)
def test_post_event_with_a_bad_audience_is_422_and_stores_nothing(
    store: FakeEventStore, writer: str, payload: dict[str, Any], loc: list[str], msg: str
) -> None:
    store.put_topic("series:abc", None)

    status, _, answer = call("POST", "/events", writer, event_to(payload))

    assert status == 422
    assert answer["errors"][0]["loc"] == loc
    assert msg in answer["errors"][0]["msg"]
    assert store.events == {}
