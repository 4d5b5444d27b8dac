"""Topics on the deployed stack: an event posted once to a topic reaches its subscribers through API Gateway
→ ingest (fan-out steps) → SQS → the senders → SES / SNS, and only them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from notify_dev.api import as_sent
from tests.e2e.conftest import Api, assert_delivered_once, counts_after_grace, wait_email, wait_push, wait_sms

pytestmark = pytest.mark.e2e


@pytest.fixture
def topic(api: Api) -> Iterator[str]:
    name = f"series:e2e-{uuid.uuid4().hex[:12]}"
    status, view = api.request("PUT", f"/topics/{name}", {"description": "An e2e series"})
    assert status == 201, view
    yield name
    api.request("DELETE", f"/topics/{name}")


def audience_event(topic: str, movie: dict[str, Any], event_type: str = "new_episode") -> dict[str, Any]:
    return {
        "event_type": event_type,
        "created_dt": datetime.now(UTC).isoformat(),
        "priority": 8,
        "payload": {"audience": topic, "content": [movie["movie_id"]]},
    }


def test_topic_event_reaches_its_three_subscribers_and_not_a_removed_one(api, make_users, movie, topic):
    users = make_users(3)
    outsider = make_users(1)
    status, changed = api.request(
        "POST", f"/topics/{topic}/subscribers", {"add": [u["user_id"] for u in users]}
    )
    assert status == 200, changed
    assert (changed["added"], changed["subscribers"], changed["skipped_users"]) == (3, 3, [])

    status, accepted = api.request("POST", "/events", audience_event(topic, movie))

    assert status == 202, accepted
    assert (accepted["status"], accepted["recipients"]) == ("queued", 3)
    for user in users:
        [mail] = wait_email(user)
        assert movie["title"] in mail["Subject"]
        wait_sms(user)
        wait_push(user)
    items = api.wait_settled(accepted["event_id"])
    assert sorted((i["user_id"], i["channel"]) for i in items) == sorted(
        (u["user_id"], channel) for u in users for channel in ("email", "sms", "push")
    )
    assert {as_sent(i["status"]) for i in items} == {"sent"}
    status, view = api.request("GET", f"/events/{accepted['event_id']}")
    assert status == 200, view
    assert view["audience"] == topic
    assert view["fan_out"] == {"recipients": 3, "done": 3, "complete": True}
    assert_delivered_once(api, users, ("email", "sms", "push"))

    removed, kept = users[0], users[1:]
    status, changed = api.request("POST", f"/topics/{topic}/subscribers", {"remove": [removed["user_id"]]})
    assert (status, changed["removed"], changed["subscribers"]) == (200, 1, 2), changed
    status, second = api.request("POST", "/events", audience_event(topic, movie, "watch_later_reminder"))
    assert status == 202, second
    assert second["recipients"] == 2
    items = api.wait_settled(second["event_id"])
    assert sorted((i["user_id"], i["channel"]) for i in items) == sorted(
        (u["user_id"], channel) for u in kept for channel in ("email", "push")
    )
    counts = counts_after_grace([*users, *outsider], ("email", "push"), api.settled_at)
    # the first event's message and the second's for those kept; the first's alone for the removed one
    assert {u["user_id"]: counts["email"][u["email"]] for u in [*users, *outsider]} == {
        removed["user_id"]: 1,
        kept[0]["user_id"]: 2,
        kept[1]["user_id"]: 2,
        outsider[0]["user_id"]: 0,
    }
    assert {u["user_id"]: counts["push"][u["push_token"]] for u in users} == {
        removed["user_id"]: 1,
        kept[0]["user_id"]: 2,
        kept[1]["user_id"]: 2,
    }


def test_topic_event_refused_for_an_unknown_topic_or_with_users(api, make_users, movie, topic):
    [user] = make_users()
    unknown = f"series:e2e-missing-{uuid.uuid4().hex[:8]}"

    status, answer = api.request("POST", "/events", audience_event(unknown, movie))
    assert status == 422, answer
    assert [e["loc"] for e in answer["errors"]] == [["body", "payload", "audience"]]

    both = audience_event(topic, movie)
    both["payload"]["user"] = [user["user_id"]]
    status, answer = api.request("POST", "/events", both)
    assert status == 422, answer
    assert answer["errors"][0]["loc"][:2] == ["body", "payload"]
    assert "exactly one of user" in answer["errors"][0]["msg"]

    status, answer = api.request("PUT", "/topics/Not%20A%20Topic", {})
    assert status == 422, answer
    assert answer["errors"][0]["loc"] == ["path", "topic"]


def test_topic_lifecycle_through_api_gateway(api, make_users, topic):
    users = make_users(2)
    missing = str(uuid.uuid4())
    status, changed = api.request(
        "POST", f"/topics/{topic}/subscribers", {"add": [*(u["user_id"] for u in users), missing]}
    )
    assert (status, changed["added"], changed["skipped_users"]) == (200, 2, [missing]), changed
    status, page = api.request("GET", f"/topics/{topic}/subscribers?limit=1")
    assert status == 200, page
    status, rest = api.request("GET", f"/topics/{topic}/subscribers?limit=1&cursor={page['next_cursor']}")
    assert status == 200, rest
    assert sorted(i["user_id"] for i in page["items"] + rest["items"]) == sorted(u["user_id"] for u in users)
    assert rest["next_cursor"] is None
    status, view = api.request("GET", f"/topics/{topic}")
    assert (status, view["subscribers"], view["description"]) == (200, 2, "An e2e series"), view
    assert api.request("PUT", "/topics/all", {})[0] == 409
    assert api.request("DELETE", f"/topics/{topic}")[0] == 204
    assert api.request("GET", f"/topics/{topic}")[0] == 404
