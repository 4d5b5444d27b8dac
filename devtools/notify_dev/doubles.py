"""Test doubles that the benchmarks share with the tests (tests/fakes/ has the rest): the two halves
of publishing after a commit, the broker and the outbox's marks; the Lambda context."""

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


@dataclass
class FakeLambdaContext:
    """The attributes of a LambdaContext that powertools reads."""

    function_name: str = "notify-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:notify-test"
    aws_request_id: str = "3f1c2e4a-0000-4000-8000-000000000001"
    log_group_name: str = "/aws/lambda/notify-test"
    log_stream_name: str = "2025/01/01/[$LATEST]0123456789abcdef"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
