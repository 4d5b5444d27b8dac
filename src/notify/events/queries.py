"""What the API reads: events, their notifications and schedules, as the store answers them,
with "not found" decided here rather than in each route."""

import uuid

from notify.errors import NotFound
from notify.events.models import EventView, NotificationPage
from notify.events.ports import EventStore


def find_event(event_id: uuid.UUID, *, events: EventStore) -> EventView:
    view = events.event_view(event_id)
    if view is None:
        raise NotFound(f"no event {event_id}")
    return view


def page_notifications(
    event_id: uuid.UUID, *, status: str | None, limit: int, cursor: str | None, events: EventStore
) -> NotificationPage:
    page = events.notifications_page(event_id, status, limit, cursor)
    if page is None:
        raise NotFound(f"no event {event_id}")
    return page
