"""Ports: small interfaces named for capabilities. Adapters implement them; the domain uses them."""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from notify.channels import Channel, EventType
from notify.controls import FrequencyCap, Verdict
from notify.models import (
    Content,
    DirectoryMovie,
    DirectoryUser,
    EventView,
    FanOutView,
    NotificationPage,
    PreferencesDocument,
    Recipient,
    SchedulePage,
    ScheduleView,
)


@dataclass(frozen=True)
class OutboundMessage:
    """A serialized queue message waiting in the outbox or on its way to the broker."""

    message_id: uuid.UUID
    queue: str
    body: bytes


@dataclass(frozen=True)
class Refused:
    """A message the broker refused for good (too large, unroutable, malformed): retrying the
    same bytes cannot help, so it is parked in the outbox with `error` for an operator."""

    message_id: uuid.UUID
    error: str


@dataclass(frozen=True)
class PublishOutcome:
    """What the broker did with each message of a publish. A message in neither list was not
    taken (the broker failed partway): it stays in the outbox and the relay tries it again."""

    published: list[uuid.UUID] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


@dataclass(frozen=True)
class NewEvent:
    event_id: uuid.UUID
    event_type: EventType
    created_dt: datetime
    priority: int
    user_ids: Sequence[str]
    content: Sequence[DirectoryMovie]
    channels: Sequence[Channel]
    queue_by_channel: dict[Channel, str]
    chunk_size: int
    idempotency_key: str | None = None
    request_hash: str | None = None
    audience: str | None = None  # a topic instead of user_ids: fanned out in steps (fan_out.py)
    audience_size: int = 0  # the topic's members when accepted


@dataclass(frozen=True)
class NewSchedule:
    schedule_id: uuid.UUID
    event_type: EventType
    priority: int
    cron: str | None
    timezone: str
    start_dt: datetime | None
    next_run_at: datetime | None
    user_ids: Sequence[str]
    content_ids: Sequence[str]
    audience: str | None = None  # a topic whose members are read again at every occurrence


@dataclass(frozen=True)
class DueSchedule:
    """A schedule whose next run has come, as the tick claims it."""

    schedule_id: uuid.UUID
    event_type: EventType
    priority: int
    cron: str | None
    timezone: str
    due_at: datetime


@dataclass(frozen=True)
class Firing:
    """What the tick does with one due schedule: send an occurrence (or skip a stale one) and
    move the schedule on (`next_run_at` None: it has run its course)."""

    schedule_id: uuid.UUID
    occurrence_at: datetime
    send: bool
    next_run_at: datetime | None
    event_id: uuid.UUID
    queue_by_channel: dict[Channel, str]


@dataclass(frozen=True)
class FiredBatch:
    claimed: int
    sent: int
    skipped_late: int
    outbox: list[OutboundMessage] = field(default_factory=list)


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


@dataclass(frozen=True)
class Rendered:
    """A message ready for a provider; `html` and `subject` are for e-mail, `subject` is the push title."""

    text: str
    subject: str | None = None
    html: str | None = None
    unsubscribe_url: str | None = None


class EventStore(Protocol):
    def find_by_idempotency_key(self, key: str) -> StoredEvent | None: ...

    def create_event(self, event: NewEvent) -> StoredEvent:
        """Store the event, its notifications and its outbox messages in one transaction."""
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


class ScheduleStore(Protocol):
    def fire_due(
        self,
        now: datetime,
        limit: int,
        plan: Callable[[list[DueSchedule]], list[Firing]],
        chunk_size: int,
        max_users: int,
    ) -> FiredBatch:
        """In one transaction: claim up to `limit` due schedules, oldest first, while their user lists
        add up to no more than `max_users` (the first is taken whatever its size), skipping those
        another tick holds; let `plan` decide, store the occurrences' events, notifications and
        messages, and move the schedules on."""
        ...

    def list_schedules(
        self, event_type: str | None, state: str | None, limit: int, cursor: str | None
    ) -> SchedulePage: ...

    def get_schedule(self, schedule_id: uuid.UUID) -> ScheduleView | None: ...

    def update_schedule(
        self,
        schedule_id: uuid.UUID,
        *,
        state: str,
        cron: str | None,
        timezone: str,
        next_run_at: datetime | None,
    ) -> bool:
        """Change an active or paused schedule; False if it is not (any more)."""
        ...

    def cancel_schedule(self, schedule_id: uuid.UUID) -> bool:
        """Stop a schedule and every notification of its occurrences not yet sent; False if unknown."""
        ...


class Outbox(Protocol):
    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None: ...

    def park(self, refused: Sequence[Refused], now: datetime) -> None:
        """Set refused messages aside with their error: never claimed again, counted for operators."""
        ...

    def parked_count(self) -> int: ...

    def claim_unpublished(
        self, now: datetime, older_than: datetime, limit: int, lease_s: int
    ) -> list[OutboundMessage]:
        """Messages stored before `older_than`, never published and not parked, leased so one
        claimer takes each."""
        ...


class Directory(Protocol):
    """Where user profiles and movie data come from (the design's Auth API and UGC API)."""

    def upsert_users(self, users: Sequence[DirectoryUser]) -> int: ...

    def upsert_movies(self, movies: Sequence[DirectoryMovie]) -> int: ...

    def find_movies(self, movie_ids: Sequence[str]) -> list[DirectoryMovie]: ...


@dataclass(frozen=True)
class Outcome:
    """How one recipient's send ended in one attempt.

    `status`: sent, unconfirmed (the provider may have it: no answer in time), failed, deferred
    (the provider failed for now: tried again from `retry_at`, through the tick), or retrying (a
    later attempt sends it)."""

    user_id: uuid.UUID
    status: str
    at: datetime
    reason: str | None = None
    error: str | None = None
    provider_id: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Pending:
    """A message's recipients that are not final after an attempt (deferred and held rows
    belong to the tick and are not counted)."""

    waiting: int = 0
    held_by_others: int = 0
    held_until: datetime | None = None


class DeliveryLedger(Protocol):
    """Per-recipient delivery state; guards against sending twice. Every write after the claim
    names the attempt's token and changes only rows that attempt still holds."""

    def claim(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        *,
        token: uuid.UUID,
        now: datetime,
        until: datetime,
    ) -> set[uuid.UUID]:
        """Take the rows no live attempt holds and that are not final; return their users."""
        ...

    def record_outcomes(
        self, event_id: uuid.UUID, channel: Channel, token: uuid.UUID, outcomes: Sequence[Outcome]
    ) -> set[uuid.UUID]:
        """Write the outcomes of rows the attempt still holds, in one transaction (a failed send
        gives its frequency-cap slot back); return the users whose outcome was written."""
        ...

    def hand_back(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        user_ids: Sequence[uuid.UUID],
        queues: Mapping[str, str],
    ) -> list[OutboundMessage]:
        """Release the rows among `user_ids` that this attempt still holds (it did not reach them)
        and store the messages that carry them, and those of `user_ids` nobody has claimed, in the
        outbox, built from the stored rows as every path that queues builds them (`queues`: the
        router's "<channel>-<priority>" routes); one transaction. Returns those messages, for
        publishing after the commit."""
        ...

    def pending(self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID]) -> Pending: ...


@dataclass(frozen=True)
class RecipientFacts:
    """What one read tells the send-time rules of a message's recipients: the preference documents
    of those who have one, and who is on the channel's suppression list."""

    preferences: dict[uuid.UUID, PreferencesDocument]
    suppressed: set[uuid.UUID]


class RecipientControls(Protocol):
    """What the send-time rules need from storage, a whole message at a time."""

    def recipient_facts(self, channel: Channel, contacts: Mapping[uuid.UUID, str | None]) -> RecipientFacts:
        """One read for every recipient (user id → the address on this channel)."""
        ...

    def reserve_sends(
        self,
        event_id: uuid.UUID,
        event_type: EventType,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        cap: FrequencyCap,
        now: datetime,
    ) -> set[uuid.UUID]:
        """Count the sends against the cap atomically; return the users still under it. A user
        who already holds a reservation for this event keeps it (a retried send)."""
        ...

    def record_verdicts(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        verdicts: Sequence[tuple[uuid.UUID, Verdict]],
        now: datetime,
    ) -> set[uuid.UUID]:
        """Write each verdict where the attempt holding `token` still claims the row; the users
        written (another attempt's claim is left alone)."""
        ...


class PreferenceStore(Protocol):
    def get_preferences(self, user_id: uuid.UUID) -> PreferencesDocument | None:
        """None for an unknown user; the defaults for a user who never set any."""
        ...

    def put_preferences(self, user_id: uuid.UUID, document: PreferencesDocument) -> bool:
        """False for an unknown user."""
        ...


class Publisher(Protocol):
    def publish(self, messages: Sequence[OutboundMessage]) -> PublishOutcome:
        """Hand the messages to the broker durably and say, per message, whether it took it or
        refused it for good; raise BrokerUnavailable when it could not be reached at all."""
        ...

    def check(self) -> None:
        """Raise if the broker does not answer."""
        ...


class Sender(Protocol):
    """A provider for one channel: takes an address (e-mail, phone, push token) and a rendered message."""

    def send(self, address: str, message: Rendered) -> str:
        """Return the provider's message id; raise RetryableError or PermanentError."""
        ...


class Renderer(Protocol):
    def render(
        self, event_type: EventType, channel: Channel, user: Recipient, content: Sequence[Content]
    ) -> Rendered: ...
