"""POST /events/batch on the deployed stack, through API Gateway and its real triggers: a batch's
events each delivered once, and concurrent replays of one batch storing and sending each event once."""

import threading
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import Api, assert_delivered_once, event, row_statuses

pytestmark = pytest.mark.e2e


def test_each_event_of_a_batch_is_delivered_once_and_a_refused_one_alone(
    api: Api, make_users: Any, movie: dict[str, Any]
) -> None:
    users = make_users(12, phone=None, push_token=None)
    events = [event("new_episode", [user], movie) for user in users]
    refused = event("new_episode", users[:1], {"movie_id": str(uuid.uuid4())})

    status, answer = api.request("POST", "/events/batch", {"events": [*events[:6], refused, *events[6:]]})

    assert status == 207, answer
    statuses = [result["status"] for result in answer["results"]]
    assert statuses == [202] * 6 + [422] + [202] * 6
    assert answer["results"][6]["body"]["errors"][0]["loc"] == ["body", "events", 6, "payload", "content", 0]
    for result in answer["results"]:
        if result["status"] == 202:
            api.wait_settled(result["body"]["event_id"])
    assert_delivered_once(api, users)


def test_concurrent_replays_of_a_batch_store_and_send_each_event_once(
    api: Api, make_users: Any, movie: dict[str, Any], endpoints: dict[str, Any]
) -> None:
    users = make_users(30, phone=None, push_token=None)
    run = uuid.uuid4().hex[:8]
    events = [
        {**event("new_episode", [user], movie), "idempotency_key": f"e2e-batch-{run}-{n}"}
        for n, user in enumerate(users)
    ]
    answers: list[tuple[int, Any]] = []
    start = threading.Barrier(4)

    def replay() -> None:
        start.wait()
        answers.append(api.request("POST", "/events/batch", {"events": events}))

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [status for status, _ in answers] == [207] * 4, answers
    event_ids = [[result["body"]["event_id"] for result in answer["results"]] for _, answer in answers]
    assert all(ids == event_ids[0] for ids in event_ids)  # every replay answered with the same events
    assert len(set(event_ids[0])) == 30
    for event_id in event_ids[0]:
        api.wait_settled(event_id)
    assert sum(row_statuses(endpoints["database_url"], event_ids[0]).values()) == 30  # a row per event
    assert_delivered_once(api, users)
