"""The events capability's ports: the event store and the directory, the stepwise fan-out to an
audience (a topic's members, or every user), and topics."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from notify.channels import Channel
from notify.events.models import (
    DirectoryMovie,
    DirectoryUser,
    EventView,
    FanOutView,
    NotificationPage,
    SubscriberPage,
    TopicPage,
    TopicView,
)
from notify.outbox import OutboundMessage

# The built-in topic: every directory user (never stored as subscriptions).
EVERYONE = "all"

# (event type, priority) → the queue of each channel the event goes out on.
# (event type, its version, priority) → each channel the version sends on at once: (queue, step)
Routes = Callable[[str, int, int], dict[Channel, tuple[str, int]]]


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


@dataclass(frozen=True)
class Membership:
    """What a change of subscribers did."""

    added: int
    removed: int
    subscribers: int
    unknown_users: list[str]


class Topics(Protocol):
    def put_topic(self, topic: str, description: str | None) -> tuple[TopicView, bool]:
        """Create the topic, or update its description (None keeps it); True if it was created."""
        ...

    def find_topic(self, topic: str) -> TopicView | None: ...

    def delete_topic(self, topic: str) -> bool:
        """Delete the topic and its subscriptions; False if there was none."""
        ...

    def topics_page(self, limit: int, cursor: str | None) -> TopicPage: ...

    def change_subscribers(self, topic: str, add: Sequence[str], remove: Sequence[str]) -> Membership | None:
        """In one transaction: unsubscribe `remove`, subscribe those of `add` the directory knows (now:
        an event accepted before does not reach them). None if there is no such topic."""
        ...

    def subscribers_page(self, topic: str, limit: int, cursor: str | None) -> SubscriberPage | None:
        """A page of the topic's subscribers in user id order (`all`: the directory); None: no topic."""
        ...


@dataclass(frozen=True)
class NewEvent:
    event_id: uuid.UUID
    event_type: str  # the workflow's key
    created_dt: datetime
    priority: int
    user_ids: Sequence[str]
    content: Sequence[DirectoryMovie]
    channels: Sequence[Channel]  # none for an event whose workflow has runs: a run per recipient instead
    queue_by_channel: dict[Channel, str]
    chunk_size: int
    # Each channel's rows' step (a row is keyed by it); absent: 0, as the sends go out as one.
    step_by_channel: Mapping[Channel, int] = field(default_factory=dict)
    idempotency_key: str | None = None
    request_hash: str | None = None
    audience: str | None = None  # a topic instead of user_ids: fanned out in steps (fan_out.py)
    audience_size: int = 0  # the topic's members when accepted
    workflow_version: int = 1  # the workflow's version current when accepted: what the event runs


@dataclass(frozen=True)
class NewSchedule:
    schedule_id: uuid.UUID
    event_type: str
    priority: int
    cron: str | None
    timezone: str
    start_dt: datetime | None
    next_run_at: datetime | None
    user_ids: Sequence[str]
    content_ids: Sequence[str]
    audience: str | None = None  # a topic whose members are read again at every occurrence


@dataclass(frozen=True)
class DeferredEvent:
    """An event that fires later (a start_dt ahead, or a cron): stored with its schedule, its rows made
    at each occurrence; `recipients` and `skipped_users` as counted when it was accepted."""

    event: NewEvent
    schedule: NewSchedule
    recipients: int
    skipped_users: list[str]


@dataclass(frozen=True)
class StoredEvent:
    """What the ingest answers about an event, first time or on an idempotent replay."""

    event_id: uuid.UUID
    status: str
    recipients: int
    notifications: int
    skipped_users: list[str]
    schedule_id: uuid.UUID | None
    next_run_at: datetime | None
    request_hash: str | None = None
    outbox: list[OutboundMessage] = field(default_factory=list)
    fan_out: FanOutView | None = None  # an audience event's progress (None: not fanned out in steps)


class EventStore(Protocol):
    def find_by_idempotency_key(self, key: str) -> StoredEvent | None: ...

    def find_by_idempotency_keys(self, keys: Sequence[str]) -> dict[str, StoredEvent]:
        """The events stored under these keys, by key (a key with none is absent)."""
        ...

    def create_event(self, event: NewEvent) -> StoredEvent:
        """Store the event, its notifications and its outbox messages in one transaction."""
        ...

    def create_events(self, events: Sequence[NewEvent | DeferredEvent]) -> list[StoredEvent | None]:
        """Store events of every kind in one transaction, set-wise: as create_event (a list of users: with
        its notifications and outbox messages; an audience: its fan-out to come) or create_scheduled_event.
        In order: what was stored, or None for an event whose idempotency key was taken (by an event
        committed before, or concurrently): it stored nothing."""
        ...

    def create_scheduled_event(
        self, event: NewEvent, schedule: NewSchedule, recipients: int, skipped_users: list[str]
    ) -> StoredEvent: ...

    def count_known_users(
        self, user_ids: Sequence[str], channels: Sequence[Channel]
    ) -> tuple[int, list[str]]:
        """(users with a contact on one of `channels`, ids of unknown users as given)."""
        ...

    def event_view(self, event_id: uuid.UUID) -> EventView | None: ...

    def notifications_page(
        self, event_id: uuid.UUID, status: str | None, limit: int, cursor: str | None
    ) -> NotificationPage | None: ...


class Directory(Protocol):
    """Where user profiles and movie data come from (the design's Auth API and UGC API)."""

    def upsert_users(self, users: Sequence[DirectoryUser]) -> int: ...

    def upsert_movies(self, movies: Sequence[DirectoryMovie]) -> int: ...

    def find_movies(self, movie_ids: Sequence[str]) -> list[DirectoryMovie]: ...
