"""The delivery capability's ports: the ledger of sends, recipient controls and preferences, the rows
the tick releases (deferred, digests), the providers and the renderer. Adapters implement them."""

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from notify.channels import Channel
from notify.delivery.controls import ControlRules, FrequencyCap, Verdict
from notify.delivery.models import Content, EngagementTimes, PreferencesDocument, Recipient
from notify.outbox import OutboundMessage


@dataclass(frozen=True)
class Rendered:
    """A message ready for a provider; `html` and `subject` are for e-mail, `subject` is the push title."""

    text: str
    subject: str | None = None
    html: str | None = None
    unsubscribe_url: str | None = None
    notification_id: uuid.UUID | None = None  # the row it is for (the push payload carries it)


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
        step: int = 0,
    ) -> set[uuid.UUID]:
        """Take the rows (of the send `step`) no live attempt holds and that are not final; return
        their users."""
        ...

    def record_outcomes(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        outcomes: Sequence[Outcome],
        step: int = 0,
        wake_runs: bool = False,
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
        step: int = 0,
    ) -> list[OutboundMessage]:
        """Release the rows among `user_ids` that this attempt still holds (it did not reach them)
        and store the messages that carry them, and those of `user_ids` nobody has claimed, in the
        outbox, built from the stored rows as every path that queues builds them (`queues`: the
        router's "<channel>-<priority>" routes); one transaction. Returns those messages, for
        publishing after the commit."""
        ...

    def pending(
        self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID], step: int = 0
    ) -> Pending: ...


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
        event_type: str,
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
        step: int = 0,
        wake_runs: bool = False,
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


class Sender(Protocol):
    """A provider for one channel: takes an address (e-mail, phone, push token) and a rendered message."""

    def send(self, address: str, message: Rendered) -> str:
        """Return the provider's message id; raise RetryableError or PermanentError."""
        ...


class Renderer(Protocol):
    def render(
        self, event_type: str, channel: Channel, user: Recipient, content: Sequence[Content], version: int = 1
    ) -> Rendered:
        """The message of `event_type`'s workflow `version` on `channel` for `user`; PermanentError
        when it has no template for the channel or its template fails."""
        ...


class RulesBook(Protocol):
    def rules_for(self, event_type: str, version: int) -> ControlRules:
        """The recipient controls of a workflow version."""
        ...


@dataclass(frozen=True)
class ReleasedBatch:
    notifications: int
    outbox: list[OutboundMessage] = field(default_factory=list)
    failed: int = 0  # rows whose message was lost after their last allowed attempt, failed instead


class WaitingNotifications(Protocol):
    def prune_reservations(self, before: datetime) -> int: ...

    def release_waiting(
        self, now: datetime, limit: int, queue_by_channel_priority: dict[str, str], chunk_size: int
    ) -> ReleasedBatch:
        """Queue again what was deferred or held until now (digests closed) and what an attempt
        that died left `sending`, with its messages stored in the outbox; keys of
        `queue_by_channel_priority` are "<channel>-<priority>"."""
        ...

    def oldest_queued_s(self, now: datetime) -> float | None:
        """How long the row waiting longest in a queue (`queued`, `retrying`) has waited; None: none does."""
        ...

    def requeue_lost(
        self,
        now: datetime,
        *,
        queued_before: datetime,
        attempt_budget: int,
        limit: int,
        queue_by_channel_priority: dict[str, str],
        chunk_size: int,
        routes: Collection[str] | None = None,
    ) -> ReleasedBatch:
        """Rows `queued` or `retrying` since before `queued_before`, on one of `routes` ("<channel>-
        <priority>" whose queue holds nothing; None: every route), have lost their message: those
        with fewer than `attempt_budget` attempts are queued again (messages in the outbox), the
        others fail (`retries_exhausted`, counted in `failed`). At most `limit` rows, oldest first."""
        ...


@dataclass(frozen=True)
class EngagementTarget:
    """A notification as engagement is judged: whose, on which channel (and address), of which type,
    in which status, and what was seen of it."""

    notification_id: uuid.UUID
    user_id: uuid.UUID
    channel: Channel
    event_type: str
    status: str
    address: str | None
    engagement: EngagementTimes


class EngagementStore(Protocol):
    def engagement_target(self, notification_id: uuid.UUID) -> EngagementTarget | None: ...

    def mark_engaged(self, notification_id: uuid.UUID, action: str, at: datetime) -> EngagementTimes:
        """Set `<action>_at` unless it is set already, and wake the recipient's run if it waits on this
        notification; what is seen now."""
        ...
