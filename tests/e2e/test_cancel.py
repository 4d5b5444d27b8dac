"""Cancelling an event on the deployed stack (issue 26, item 1): an audience of 50,000 cancelled while its
fan-out is under way leaves no row waiting, and no more is sent after the answer than it said was in
flight."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from notify.adapters.postgres.events.cancellation import HANDED_TO_PROVIDER
from tests.e2e.conftest import GRACE_S, Api, delivery_counts, put_users

pytestmark = pytest.mark.e2e

AUDIENCE = 50_000
WAITING = {"queued", "retrying", "deferred", "held"}


def test_cancel_mid_fan_out_of_50000_leaves_nothing_waiting_and_sends_no_more_than_in_flight(
    api: Api, movie: dict[str, Any]
) -> None:
    users = put_users(api, AUDIENCE, batch=10_000)
    topic = f"promo:e2e-{uuid.uuid4().hex[:12]}"
    assert api.request("PUT", f"/topics/{topic}", None)[0] == 201
    status, changed = api.request(
        "POST", f"/topics/{topic}/subscribers", {"add": [u["user_id"] for u in users]}
    )
    assert (status, changed["subscribers"]) == (200, AUDIENCE), changed
    body = {
        "event_type": "new_releases_promo",
        "created_dt": datetime.now(UTC).isoformat(),
        "priority": 1,
        "payload": {"audience": topic, "content": [movie["movie_id"]]},
    }

    status, accepted = api.request("POST", "/events", body)
    status_cancel, answer = api.request("POST", f"/events/{accepted['event_id']}/cancel")

    assert status == 202, accepted
    assert status_cancel == 200, answer
    deadline = time.monotonic() + 300
    while True:
        _, view = api.request("GET", f"/events/{accepted['event_id']}")
        if not set(view["counts"]) & (WAITING | {"sending"}):
            break
        assert time.monotonic() < deadline, f"rows still on their way: {view['counts']}"
        time.sleep(2)
    time.sleep(GRACE_S)
    _, view = api.request("GET", f"/events/{accepted['event_id']}")
    sent = sum(view["counts"].get(status, 0) for status in HANDED_TO_PROVIDER)
    mails = sum(delivery_counts("email", [u["email"] for u in users]).values())
    print(
        f"cancel: audience {AUDIENCE}, fanned out {view['fan_out']['done']}; answer {answer};"
        f" after settling {view['counts']}, e-mails in SES {mails}"
    )
    try:
        assert view["status"] == "cancelled"
        assert view["fan_out"]["done"] < AUDIENCE, "the fan-out was over before the cancel: nothing proven"
        assert not set(view["counts"]) & WAITING, view["counts"]
        assert sent <= answer["sent"] + answer["in_flight"], (answer, view["counts"])
        assert mails <= answer["sent"] + answer["in_flight"], (answer, mails)
    finally:
        api.request("DELETE", f"/topics/{topic}")
