"""POST /events/{id}/cancel through the HTTP handler on the fakes: the answer's shape, 404, the rows."""

import uuid

import pytest

from notify.channels import Channel
from tests.fakes import EventRecord, FakeEventStore, FakePublisher
from tests.unit.api_calls import call, install_fakes, key_with
from tests.unit.builders import NOW, message, recipient


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore()
    install_fakes(store, FakePublisher())
    return store


def test_cancel_answers_the_counts_and_a_second_cancel_the_same(store: FakeEventStore) -> None:
    msg = message([recipient(email=f"u{n}@example.com") for n in range(3)])
    store.add_message(msg)
    store.events[msg.event_id] = EventRecord(
        msg.event_id, msg.event_type, NOW, 5, "queued", None, 3, 3, [], None, None
    )
    rows = [store.rows[(msg.event_id, Channel.EMAIL, user.user_id)] for user in msg.payload.user]
    rows[1].status = "sent"
    rows[2].status, rows[2].claimed_until = "sending", NOW.replace(year=2100)
    key = key_with(store, "events:write")

    first = call("POST", f"/events/{msg.event_id}/cancel", key)
    second = call("POST", f"/events/{msg.event_id}/cancel", key)

    expected = {
        "event_id": str(msg.event_id),
        "status": "cancelled",
        "cancelled": 1,
        "sent": 1,
        "in_flight": 1,
    }
    assert (first[0], first[2]) == (200, expected)
    assert (second[0], second[2]) == (200, expected)
    assert [row.status for row in rows] == ["cancelled", "sent", "sending"]


def test_cancel_unknown_event_is_404_and_a_reader_may_not(store: FakeEventStore) -> None:
    assert call("POST", f"/events/{uuid.uuid4()}/cancel", key_with(store, "events:write"))[0] == 404
    assert call("POST", f"/events/{uuid.uuid4()}/cancel", key_with(store, "events:read"))[0] == 403
