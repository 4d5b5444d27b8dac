import uuid

import pytest

from notify.errors import NotFound
from notify.events.queries import find_event, page_notifications
from tests.fakes import FakeEventStore, FakePublisher
from tests.unit.events.test_ingest import ALICE, BORIS, accept, request, store  # noqa: F401 - the fixture

MISSING = uuid.UUID("00000000-0000-4000-8000-00000000dead")


def test_find_event_answers_the_stored_view(store: FakeEventStore) -> None:  # noqa: F811
    accepted = accept(request(), store, FakePublisher())

    view = find_event(accepted.event_id, events=store)

    assert view.event_id == accepted.event_id
    assert view.recipients == accepted.recipients


def test_find_event_unknown_id_is_not_found_naming_it(store: FakeEventStore) -> None:  # noqa: F811
    with pytest.raises(NotFound, match=str(MISSING)):
        find_event(MISSING, events=store)


def test_page_notifications_lists_the_event_recipients(store: FakeEventStore) -> None:  # noqa: F811
    accepted = accept(request(), store, FakePublisher())

    page = page_notifications(accepted.event_id, status=None, limit=100, cursor=None, events=store)

    assert {item.user_id for item in page.items} >= {ALICE, BORIS}


def test_page_notifications_unknown_event_is_not_found(store: FakeEventStore) -> None:  # noqa: F811
    with pytest.raises(NotFound, match=str(MISSING)):
        page_notifications(MISSING, status=None, limit=10, cursor=None, events=store)
