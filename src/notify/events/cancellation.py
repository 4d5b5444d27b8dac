"""Stopping an event, whatever its stage: `POST /events/{id}/cancel`.

The fan-out stops at its next step, every row no sender holds (queued, retrying, deferred, held, one
whose sender's lease ran out, one a redrive would try again) becomes `cancelled`, and senders do not
claim cancelled rows. Rows a sender holds finish: they are the only sends after the answer. An event
that holds a schedule cancels the schedule too. Cancelling twice changes nothing and answers the same.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel

from notify.errors import NotFound


@dataclass(frozen=True)
class Cancellation:
    """The event's rows once it is cancelled: cancelled, handed to the provider, still being sent."""

    cancelled: int
    sent: int
    in_flight: int


class EventCancellation(Protocol):
    def cancel_event(self, event_id: uuid.UUID, now: datetime) -> Cancellation | None:
        """Cancel the event (None: there is no such event); its rows' counts afterwards."""
        ...


class EventCancelled(BaseModel):
    event_id: uuid.UUID
    status: Literal["cancelled"] = "cancelled"
    cancelled: int
    sent: int
    in_flight: int


def cancel_event(event_id: uuid.UUID, *, now: datetime, events: EventCancellation) -> EventCancelled:
    done = events.cancel_event(event_id, now)
    if done is None:
        raise NotFound(f"no event {event_id}")
    return EventCancelled(
        event_id=event_id, cancelled=done.cancelled, sent=done.sent, in_flight=done.in_flight
    )
