"""The ports of delivery feedback: where providers' feedback and the suppression list are kept."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notify.models import SuppressionPage
from notify.ses_events import Feedback


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
