"""The outbox's ports: messages stored with their event, and the broker they are published to."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


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


class Publisher(Protocol):
    def publish(self, messages: Sequence[OutboundMessage]) -> PublishOutcome:
        """Hand the messages to the broker durably and say, per message, whether it took it or
        refused it for good; raise BrokerUnavailable when it could not be reached at all."""
        ...

    def check(self) -> None:
        """Raise if the broker does not answer."""
        ...
