"""Test doubles that the benchmarks share with the tests (tests/fakes/ has the rest): the two halves
of publishing after a commit, the broker and the outbox's marks."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from notify.errors import BrokerUnavailable
from notify.outbox.ports import OutboundMessage, PublishOutcome, Refused


@dataclass
class FakePublisher:
    """Records what the broker took and what it refused; refuses like a broker does: a message
    over `max_bytes`, or one for a queue in `unroutable`."""

    published: list[OutboundMessage] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    down: bool = False
    max_bytes: int | None = None
    unroutable: set[str] = field(default_factory=set)

    def publish(self, messages: Sequence[OutboundMessage]) -> PublishOutcome:
        if self.down:
            raise BrokerUnavailable("fake broker is down")
        outcome = PublishOutcome()
        for message in messages:
            if self.max_bytes is not None and len(message.body) > self.max_bytes:
                outcome.refused.append(
                    Refused(message.message_id, f"fake: larger than {self.max_bytes} bytes")
                )
            elif message.queue in self.unroutable:
                outcome.refused.append(Refused(message.message_id, f"fake: no queue {message.queue}"))
            else:
                self.published.append(message)
                outcome.published.append(message.message_id)
        self.refused.extend(outcome.refused)
        return outcome

    def check(self) -> None:
        if self.down:
            raise BrokerUnavailable("fake broker is down")


@dataclass
class FakeOutboxMarks:
    """The outbox as publishing after a commit sees it: records which messages were marked published
    and which parked (the relay's claims find nothing here)."""

    published: list[uuid.UUID] = field(default_factory=list)
    parked: list[Refused] = field(default_factory=list)

    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        self.published.extend(message_ids)

    def park(self, refused: Sequence[Refused], now: datetime) -> None:
        self.parked.extend(refused)

    def parked_count(self) -> int:
        return len(self.parked)

    def claim_unpublished(
        self, now: datetime, older_than: datetime, limit: int, lease_s: int
    ) -> list[OutboundMessage]:
        return []
