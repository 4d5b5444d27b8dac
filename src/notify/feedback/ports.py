"""The ports of delivery feedback: where providers' feedback and the suppression list are kept."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from notify.feedback.models import SuppressionPage
from notify.feedback.ses_events import Feedback


@dataclass(frozen=True)
class Suppression:
    channel: str
    address: str
    reason: str
    created_at: datetime


class FeedbackStore(Protocol):
    def record_feedback(self, items: Sequence[Feedback], now: datetime) -> int:
        """Store what is new (a copy already stored changes nothing) and move the notifications the
        feedback names on: sent → delivered; sent or delivered → bounced, complained or failed
        (rejected); never back. Returns how many notifications changed."""
        ...

    def soft_bounces_since(self, addresses: Sequence[str], since: datetime) -> dict[str, int]:
        """How many soft bounces each address had since then (messages, not copies)."""
        ...


@dataclass(frozen=True)
class DeliveryCounts:
    """One channel's and event type's notifications in a window, by their status now."""

    channel: str
    event_type: str
    sent: int = 0  # sent or unconfirmed: handed to the provider, nothing heard since
    delivered: int = 0
    bounced: int = 0
    complained: int = 0
    suppressed: int = 0  # skipped: the address is on the suppression list
    opened: int = 0  # of those handed to the provider, opened (the pixel, or the app's report)
    clicked: int = 0  # ... and clicked (a tracked link, or the app's report)


class DeliveryStats(Protocol):
    def delivery_counts(self, since: datetime, until: datetime) -> list[DeliveryCounts]:
        """Per channel and event type (those with any): the notifications handed to the provider in
        [since, until] (by sent_at) by their status now, and those skipped as suppressed in it (by
        the time they were screened)."""
        ...


class Suppressions(Protocol):
    def suppress(self, entries: Sequence[Suppression]) -> int:
        """Add what is not there yet (an address stays with its first reason); how many were added."""
        ...

    def find_suppression(self, channel: str, address: str) -> Suppression | None: ...

    def remove_suppression(self, channel: str, address: str) -> bool:
        """False when the address was not suppressed."""
        ...

    def suppressions_page(self, channel: str | None, limit: int, cursor: str | None) -> SuppressionPage:
        """Ordered by channel and address; `cursor` is the previous page's next_cursor."""
        ...


class OptedOutNumbers(Protocol):
    """The provider's list of phone numbers that opted out of SMS at the carrier (a STOP reply)."""

    def opted_out_numbers(self) -> list[str]:
        """All of them, every page; a provider failure raises RetryableError or PermanentError."""
        ...


class SyncClaims(Protocol):
    """When each periodic sync (the SMS opt-outs) last ran, claimed so that one caller runs it at once."""

    def claim_sync(self, name: str, now: datetime, every: timedelta, lease: timedelta) -> bool:
        """Hold the sync for `lease` from `now` when it last ran `every` or longer before `now` (or never)
        and nobody holds it; False otherwise (not due, or held by another caller)."""
        ...

    def finish_sync(self, name: str, now: datetime, lease: timedelta, *, done: bool) -> None:
        """Give back the claim taken at `now` for `lease`: done, the sync ran at `now`; not done, it is
        due again at once. A claim no longer held (its lease ran out, another took it) changes nothing."""
        ...


class PushEndpoints(Protocol):
    """The provider's endpoint for each push token, made once and reused (SNS platform endpoints)."""

    def find_endpoint(self, token: str) -> str | None: ...

    def remember_endpoint(self, token: str, endpoint: str, now: datetime) -> None:
        """Keep it (a later one for the same token replaces it)."""
        ...

    def forget_endpoint(self, token: str) -> None:
        """The provider no longer knows it (deleted): the next send makes a new one."""
        ...
