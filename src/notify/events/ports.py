"""Ports of the stepwise fan-out of events to an audience (a topic's members, or every user)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from notify.channels import Channel, EventType
from notify.ports import OutboundMessage

# The built-in topic: every directory user (never stored as subscriptions).
EVERYONE = "all"

# (event type, priority) → the queue of each channel the event goes out on.
Routes = Callable[[EventType, int], dict[Channel, str]]


@dataclass(frozen=True)
class FanOutStep:
    """One step of an event's fan-out, committed: the rows and outbox messages of its next members."""

    event_id: uuid.UUID
    members: int  # members taken by this step (some may have no contact on the event's channels)
    notifications: int  # rows this step made
    done: int  # members taken so far, this step included
    complete: bool
    outbox: list[OutboundMessage] = field(default_factory=list)


class AudienceSizes(Protocol):
    def audience_size(self, topic: str) -> int | None:
        """How many members `topic` has now (the built-in `all`: directory users); None if no such topic."""
        ...


class FanOuts(Protocol):
    def fan_out_step(
        self, event_id: uuid.UUID | None, *, members: int, routes: Routes, chunk_size: int
    ) -> FanOutStep | None:
        """In one transaction: take an audience event whose fan-out is not complete and that no one
        else is stepping (`event_id`'s, or the oldest), store the notification rows and outbox
        messages of its next `members` members in user id order (those who were members when it
        was accepted), and move its cursor past them. None: no such event free to step."""
        ...
