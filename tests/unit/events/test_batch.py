"""accept_events over the fakes: what a failing store or broker does to a batch, and the answers of
events that repeat a key inside one batch."""

from typing import Any

import pytest

from notify.channels import QueueRouter
from notify.errors import StorageUnavailable
from notify.events import IngestPolicy, IngestPorts, accept_events
from tests.fakes import FakeEventStore, FakePublisher
from tests.unit.builders import NOW
from tests.unit.events.test_ingest import ALICE, BORIS, directory_store

POLICY = IngestPolicy(router=QueueRouter("notify"), chunk_size=250)


@pytest.fixture
def directory() -> FakeEventStore:
    return directory_store()


def event(*users: Any, **changes: Any) -> dict[str, Any]:
    return {
        "event_type": "comment_liked",
        "created_dt": "2025-03-14T08:59:00+00:00",
        "payload": {"user": [str(user) for user in users]},
        **changes,
    }


def ports(store: FakeEventStore, publisher: FakePublisher) -> IngestPorts:
    return IngestPorts(events=store, directory=store, outbox=store, publisher=publisher, workflows=store)


def test_a_broker_outage_leaves_the_batch_accepted_and_its_messages_to_the_relay(
    directory: FakeEventStore,
) -> None:
    store, publisher = directory, FakePublisher(down=True)

    accepted = accept_events(
        [event(ALICE), event(BORIS)], now=NOW, ports=ports(store, publisher), policy=POLICY
    )

    assert [result.status for result in accepted.results] == [202, 202]
    assert publisher.published == []
    assert len(store.unpublished()) == 3  # Alice's e-mail and push, Boris' e-mail: the relay's


def test_a_store_outage_refuses_the_whole_batch_and_stores_nothing(directory: FakeEventStore) -> None:
    store, publisher = directory, FakePublisher()
    store.down = True

    with pytest.raises(StorageUnavailable):
        accept_events([event(ALICE), event(BORIS)], now=NOW, ports=ports(store, publisher), policy=POLICY)

    store.down = False
    assert (store.events, store.outbox, publisher.published) == ({}, {}, [])


def test_an_event_repeating_a_refused_event_s_key_is_refused_at_its_own_place(
    directory: FakeEventStore,
) -> None:
    store = directory
    unknown_movie = "0c0c0c0c-0000-4000-8000-00000000000c"
    refused = event(ALICE, idempotency_key="k", payload={"user": [str(ALICE)], "content": [unknown_movie]})

    accepted = accept_events([refused, refused], now=NOW, ports=ports(store, FakePublisher()), policy=POLICY)

    locs = [[error.loc for error in result.body.errors] for result in accepted.results]  # type: ignore[union-attr]
    assert [result.status for result in accepted.results] == [422, 422]
    assert locs == [
        [["body", "events", 0, "payload", "content", 0]],
        [["body", "events", 1, "payload", "content", 0]],
    ]
    assert store.events == {}
