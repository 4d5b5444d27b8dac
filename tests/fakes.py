"""Fakes for the ports: in-memory, recording what they were given, failing on request."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from notify.channels import Channel
from notify.errors import BrokerUnavailable, NotifyError
from notify.ports import OutboundMessage, Rendered


@dataclass
class FakePublisher:
    published: list[OutboundMessage] = field(default_factory=list)
    down: bool = False

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        if self.down:
            raise BrokerUnavailable("fake broker is down")
        self.published.extend(messages)

    def check(self) -> None:
        if self.down:
            raise BrokerUnavailable("fake broker is down")


@dataclass
class FakeSender:
    """Records (address, message); raises the queued errors first, one per send."""

    sent: list[tuple[str, Rendered]] = field(default_factory=list)
    errors: list[NotifyError] = field(default_factory=list)
    fail_addresses: dict[str, NotifyError] = field(default_factory=dict)

    def send(self, address: str, message: Rendered) -> str:
        if address in self.fail_addresses:
            raise self.fail_addresses[address]
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((address, message))
        return f"fake-{len(self.sent)}"


@dataclass
class Row:
    status: str = "queued"
    reason: str | None = None
    error: str | None = None
    attempts: int = 0
    sent_at: datetime | None = None
    claimed_until: datetime | None = None


@dataclass
class FakeLedger:
    """The delivery ledger in memory, with the claim rules of the real one."""

    rows: dict[tuple[uuid.UUID, Channel, uuid.UUID], Row] = field(default_factory=dict)

    def add(self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID]) -> None:
        for user_id in user_ids:
            self.rows[(event_id, channel, user_id)] = Row()

    def claim(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        now: datetime,
        lease_s: int,
    ) -> set[uuid.UUID]:
        claimed = set()
        for user_id in user_ids:
            row = self.rows.get((event_id, channel, user_id))
            if row is None:
                continue
            expired = row.status == "sending" and row.claimed_until is not None and row.claimed_until < now
            exhausted = row.status == "failed" and row.reason == "retries_exhausted"
            if row.status in ("queued", "retrying") or expired or exhausted:
                row.status, row.attempts, row.reason = "sending", row.attempts + 1, None
                row.claimed_until = now.__class__.fromtimestamp(now.timestamp() + lease_s, now.tzinfo)
                claimed.add(user_id)
        return claimed

    def mark_sent(
        self, event_id: uuid.UUID, channel: Channel, user_id: uuid.UUID, now: datetime, provider_id: str
    ) -> None:
        row = self.rows[(event_id, channel, user_id)]
        row.status, row.sent_at, row.error, row.claimed_until = "sent", now, None, None

    def mark_failed(
        self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID], reason: str, error: str
    ) -> None:
        for user_id in user_ids:
            row = self.rows[(event_id, channel, user_id)]
            row.status, row.reason, row.error, row.claimed_until = "failed", reason, error, None

    def release_for_retry(
        self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID], error: str
    ) -> None:
        for user_id in user_ids:
            row = self.rows[(event_id, channel, user_id)]
            row.status, row.error, row.claimed_until = "retrying", error, None

    def statuses(self) -> dict[uuid.UUID, str]:
        return {user_id: row.status for (_, _, user_id), row in self.rows.items()}
