"""Fakes for the ports: in-memory, recording what they were given, failing on request. The broker's
fake is notify_dev's, shared with the benchmarks."""

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from notify.channels import CONTACT_FIELD, Channel, EventType
from notify.controls import FrequencyCap, Verdict
from notify.errors import DuplicateIdempotencyKey, NotifyError, StorageUnavailable
from notify.models import (
    Content,
    DirectoryMovie,
    DirectoryUser,
    EventView,
    MessagePayload,
    NotificationMessage,
    NotificationPage,
    NotificationView,
    PreferencesDocument,
    Recipient,
)
from notify.ports import (
    DueSchedule,
    FiredBatch,
    Firing,
    NewEvent,
    NewSchedule,
    OutboundMessage,
    Outcome,
    Pending,
    Refused,
    ReleasedBatch,
    Rendered,
    StoredEvent,
)
from notify_dev.doubles import FakePublisher as FakePublisher  # one double, shared with the benchmarks


@dataclass
class FakeSender:
    """Records (address, message); raises the queued errors first, one per send. Safe to call
    from the delivery's send threads; `latency_s` makes each send take that long."""

    sent: list[tuple[str, Rendered]] = field(default_factory=list)
    errors: list[NotifyError] = field(default_factory=list)
    fail_addresses: dict[str, NotifyError | list[NotifyError]] = field(default_factory=dict)
    latency_s: float = 0.0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, address: str, message: Rendered) -> str:
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            self.calls += 1
            failure = self.fail_addresses.get(address)
            if isinstance(failure, list):
                # a list: one error per call, then the address works
                if failure:
                    raise failure.pop(0)
            elif failure is not None:
                raise failure
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
    claim_token: uuid.UUID | None = None
    provider_id: str | None = None
    deliver_after: datetime | None = None


@dataclass
class FakeLedger:
    """The delivery ledger and the recipient controls' storage in memory, with the claim
    rules of the real one; frequency caps count reservations in their window."""

    rows: dict[tuple[uuid.UUID, Channel, uuid.UUID], Row] = field(default_factory=dict)
    preferences: dict[uuid.UUID, PreferencesDocument] = field(default_factory=dict)
    reservations: list[tuple[uuid.UUID, EventType, Channel, datetime, uuid.UUID]] = field(
        default_factory=list
    )
    writes: list[int] = field(default_factory=list)  # outcomes per record_outcomes call
    write_errors: list[NotifyError] = field(default_factory=list)  # raised by the next writes
    handed_back: list[OutboundMessage] = field(default_factory=list)

    def preferences_for(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PreferencesDocument]:
        return {user_id: self.preferences[user_id] for user_id in user_ids if user_id in self.preferences}

    @staticmethod
    def _once_key(
        reservation: tuple[uuid.UUID, EventType, Channel, datetime, uuid.UUID],
    ) -> tuple[uuid.UUID, Channel, uuid.UUID]:
        """What makes a reservation unique, as the real table's index `frequency_reservations_once`."""
        user_id, _, channel, _, event_id = reservation
        return user_id, channel, event_id

    def reserve_sends(
        self,
        event_id: uuid.UUID,
        event_type: EventType,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        cap: FrequencyCap,
        now: datetime,
    ) -> set[uuid.UUID]:
        allowed = set()
        for user_id in dict.fromkeys(user_ids):
            if any(self._once_key(r) == (user_id, channel, event_id) for r in self.reservations):
                allowed.add(user_id)
                continue
            used = sum(
                1
                for who, kind, where, at, _ in self.reservations
                if (who, kind, where) == (user_id, event_type, channel) and at > now - cap.window
            )
            if used < cap.limit:
                self.reservations.append((user_id, event_type, channel, now, event_id))
                allowed.add(user_id)
        return allowed

    def record_verdicts(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        verdicts: Sequence[tuple[uuid.UUID, Verdict]],
        now: datetime,
    ) -> None:
        for user_id, verdict in verdicts:
            row = self.rows[(event_id, channel, user_id)]
            row.status, row.reason, row.deliver_after = verdict.status, verdict.reason, verdict.deliver_after
            row.claimed_until = None

    def add(self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID]) -> None:
        for user_id in user_ids:
            self.rows[(event_id, channel, user_id)] = Row()

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
        claimed = set()
        for user_id in user_ids:
            row = self.rows.get((event_id, channel, user_id))
            if row is None:
                continue
            expired = row.status == "sending" and row.claimed_until is not None and row.claimed_until < now
            exhausted = row.status == "failed" and row.reason == "retries_exhausted"
            if row.status in ("queued", "retrying") or expired or exhausted:
                row.status, row.attempts, row.reason = "sending", row.attempts + 1, None
                row.claimed_until, row.claim_token = until, token
                claimed.add(user_id)
        return claimed

    def record_outcomes(
        self, event_id: uuid.UUID, channel: Channel, token: uuid.UUID, outcomes: Sequence[Outcome]
    ) -> set[uuid.UUID]:
        self.writes.append(len(outcomes))
        if self.write_errors:
            raise self.write_errors.pop(0)
        written = set()
        for outcome in outcomes:
            row = self.rows[(event_id, channel, outcome.user_id)]
            if row.claim_token != token or row.status != "sending":
                continue
            row.status, row.reason, row.error = outcome.status, outcome.reason, outcome.error
            row.provider_id = outcome.provider_id or row.provider_id
            if outcome.status in ("sent", "unconfirmed"):
                row.sent_at = outcome.at
            row.claimed_until = row.claim_token = None
            written.add(outcome.user_id)
        given_back = {
            (user_id, channel, event_id)
            for user_id in written
            if self.rows[(event_id, channel, user_id)].status == "failed"
        }
        self.reservations = [r for r in self.reservations if self._once_key(r) not in given_back]
        return written

    def hand_back(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        user_ids: Sequence[uuid.UUID],
        remainder: OutboundMessage,
    ) -> None:
        for user_id in user_ids:
            row = self.rows.get((event_id, channel, user_id))
            if row is not None and row.claim_token == token and row.status == "sending":
                row.status, row.claimed_until, row.claim_token = "queued", None, None
        self.handed_back.append(remainder)

    def pending(self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID]) -> Pending:
        rows = [self.rows[key] for user_id in user_ids if (key := (event_id, channel, user_id)) in self.rows]
        sending = [row for row in rows if row.status == "sending"]
        return Pending(
            waiting=sum(1 for row in rows if row.status in ("queued", "retrying")),
            held_by_others=len(sending),
            held_until=max((row.claimed_until for row in sending if row.claimed_until), default=None),
        )

    def statuses(self) -> dict[uuid.UUID, str]:
        return {user_id: row.status for (_, _, user_id), row in self.rows.items()}


@dataclass
class FakeRetryDelay:
    """Records every defer(queue_arn, receipt_handle, seconds) call."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def defer(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        self.calls.append((queue_arn, receipt_handle, seconds))


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


@dataclass
class OutboxRow:
    message: OutboundMessage
    created_at: datetime
    published_at: datetime | None = None
    claimed_until: datetime | None = None
    parked_at: datetime | None = None
    error: str | None = None


@dataclass
class EventRecord:
    event_id: uuid.UUID
    event_type: EventType
    created_dt: datetime
    priority: int
    status: str
    schedule_id: uuid.UUID | None
    recipients: int
    notifications: int
    skipped_users: list[str]
    idempotency_key: str | None
    request_hash: str | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeEventStore(FakeLedger):
    """EventStore, Outbox, Directory, DeliveryLedger and HealthProbe in memory, following the
    rules of PostgresStore: fan-out per channel to users with a contact, chunked outbox messages,
    one event per idempotency key, outbox claims with a lease."""

    users: dict[uuid.UUID, DirectoryUser] = field(default_factory=dict)
    movies: dict[uuid.UUID, DirectoryMovie] = field(default_factory=dict)
    events: dict[uuid.UUID, EventRecord] = field(default_factory=dict)
    schedules: dict[uuid.UUID, NewSchedule] = field(default_factory=dict)
    outbox: dict[uuid.UUID, OutboxRow] = field(default_factory=dict)
    clock: Callable[[], datetime] = _utcnow
    down: bool = False
    new_message_id: Callable[[], uuid.UUID] = uuid.uuid4
    max_message_bytes: int = 240_000

    firings: list[Firing] = field(default_factory=list)

    def prune_reservations(self, before: datetime) -> int:
        kept = [r for r in self.reservations if r[3] >= before]
        pruned, self.reservations = len(self.reservations) - len(kept), kept
        return pruned

    def release_waiting(
        self, now: datetime, limit: int, queue_by_channel_priority: dict[str, str], chunk_size: int
    ) -> ReleasedBatch:
        """Deferred rows whose time has come go back to `queued` (no messages are built here)."""
        released = 0
        for row in self.rows.values():
            if row.status == "deferred" and row.deliver_after is not None and row.deliver_after <= now:
                row.status, row.deliver_after = "queued", None
                released += 1
        return ReleasedBatch(notifications=released)

    # ---- schedules (the tick's claim and plan; occurrences are not fanned out here) -------------

    def fire_due(
        self, now: datetime, limit: int, plan: Callable[[list[DueSchedule]], list[Firing]], chunk_size: int
    ) -> FiredBatch:
        due = [
            DueSchedule(s.schedule_id, s.event_type, s.priority, s.cron, s.timezone, s.next_run_at)
            for s in self.schedules.values()
            if s.next_run_at is not None and s.next_run_at <= now
        ][:limit]
        if not due:
            return FiredBatch(claimed=0, sent=0, skipped_late=0)
        firings = plan(due)
        for firing in firings:
            schedule = self.schedules[firing.schedule_id]
            self.schedules[firing.schedule_id] = dataclasses.replace(schedule, next_run_at=firing.next_run_at)
        self.firings.extend(firings)
        sent = sum(1 for firing in firings if firing.send)
        return FiredBatch(claimed=len(due), sent=sent, skipped_late=len(firings) - sent)

    # ---- health --------------------------------------------------------------------------------

    def check(self) -> None:
        if self.down:
            raise StorageUnavailable("fake store is down")

    # ---- events --------------------------------------------------------------------------------

    def find_by_idempotency_key(self, key: str) -> StoredEvent | None:
        for record in self.events.values():
            if record.idempotency_key == key:
                schedule = self.schedules.get(record.schedule_id) if record.schedule_id else None
                return StoredEvent(
                    event_id=record.event_id,
                    status=record.status,
                    recipients=record.recipients,
                    notifications=record.notifications,
                    skipped_users=list(record.skipped_users),
                    schedule_id=record.schedule_id,
                    next_run_at=schedule.next_run_at if schedule else None,
                    request_hash=record.request_hash,
                )
        return None

    def _insert_event(
        self,
        event: NewEvent,
        status: str,
        schedule_id: uuid.UUID | None,
        recipients: int,
        notifications: int,
        skipped: list[str],
    ) -> None:
        self.events[event.event_id] = EventRecord(
            event_id=event.event_id,
            event_type=event.event_type,
            created_dt=event.created_dt,
            priority=event.priority,
            status=status,
            schedule_id=schedule_id,
            recipients=recipients,
            notifications=notifications,
            skipped_users=skipped,
            idempotency_key=event.idempotency_key,
            request_hash=event.request_hash,
        )

    def _unknown(self, user_ids: Sequence[str]) -> list[str]:
        return [raw for raw in user_ids if uuid.UUID(raw) not in self.users]

    def _refuse_duplicate_key(self, event: NewEvent) -> None:
        """Like the unique index on events.idempotency_key: nothing is stored on a duplicate."""
        key = event.idempotency_key
        if key is not None and any(record.idempotency_key == key for record in self.events.values()):
            raise DuplicateIdempotencyKey(key)

    def create_event(self, event: NewEvent) -> StoredEvent:
        self.check()
        self._refuse_duplicate_key(event)
        requested = sorted({uuid.UUID(raw) for raw in event.user_ids})
        content = [Content.model_validate(movie.model_dump()) for movie in event.content]
        messages: list[OutboundMessage] = []
        rows = 0
        recipients: set[uuid.UUID] = set()
        for channel in event.channels:
            contact = CONTACT_FIELD[channel]
            reachable = [
                self.users[user_id]
                for user_id in requested
                if user_id in self.users and getattr(self.users[user_id], contact)
            ]
            for user in reachable:
                self.add(event.event_id, channel, [user.user_id])
                recipients.add(user.user_id)
            rows += len(reachable)
            for start in range(0, len(reachable), event.chunk_size):
                chunk = [_recipient(user, channel) for user in reachable[start : start + event.chunk_size]]
                for piece in self._fitting(event, channel, chunk, content):
                    messages.append(
                        OutboundMessage(
                            piece.message_id,
                            event.queue_by_channel[channel],
                            piece.model_dump_json().encode(),
                        )
                    )
        skipped = self._unknown(event.user_ids)
        self._insert_event(event, "queued", None, len(recipients), rows, skipped)
        for outbound in messages:
            self.outbox[outbound.message_id] = OutboxRow(outbound, created_at=self.clock())
        return StoredEvent(
            event_id=event.event_id,
            status="queued",
            recipients=len(recipients),
            notifications=rows,
            skipped_users=skipped,
            schedule_id=None,
            next_run_at=None,
            request_hash=event.request_hash,
            outbox=messages,
        )

    def _fitting(
        self, event: NewEvent, channel: Channel, chunk: list[Recipient], content: list[Content]
    ) -> list[NotificationMessage]:
        """A chunk's messages, cut further (in order) where one would exceed `max_message_bytes`."""
        pieces: list[list[Recipient]] = [[]]
        for recipient in chunk:
            candidate = _message(event, channel, [*pieces[-1], recipient], content, uuid.UUID(int=0))
            if pieces[-1] and len(candidate.model_dump_json().encode()) > self.max_message_bytes:
                pieces.append([])
            pieces[-1].append(recipient)
        return [_message(event, channel, piece, content, self.new_message_id()) for piece in pieces if piece]

    def create_scheduled_event(
        self, event: NewEvent, schedule: NewSchedule, recipients: int, skipped_users: list[str]
    ) -> StoredEvent:
        self.check()
        self._refuse_duplicate_key(event)
        self._insert_event(event, "scheduled", schedule.schedule_id, recipients, 0, skipped_users)
        self.schedules[schedule.schedule_id] = schedule
        return StoredEvent(
            event_id=event.event_id,
            status="scheduled",
            recipients=recipients,
            notifications=0,
            skipped_users=skipped_users,
            schedule_id=schedule.schedule_id,
            next_run_at=schedule.next_run_at,
            request_hash=event.request_hash,
        )

    def count_known_users(
        self, user_ids: Sequence[str], channels: Sequence[Channel]
    ) -> tuple[int, list[str]]:
        known = {
            user_id
            for user_id in {uuid.UUID(raw) for raw in user_ids}
            if user_id in self.users
            and any(getattr(self.users[user_id], CONTACT_FIELD[channel]) for channel in channels)
        }
        return len(known), self._unknown(user_ids)

    def event_view(self, event_id: uuid.UUID) -> EventView | None:
        record = self.events.get(event_id)
        if record is None:
            return None
        counts: dict[str, int] = {}
        for (row_event, _, _), row in self.rows.items():
            if row_event == event_id:
                counts[row.status] = counts.get(row.status, 0) + 1
        return EventView(
            event_id=record.event_id,
            event_type=record.event_type,
            created_dt=record.created_dt,
            priority=record.priority,
            status="scheduled" if record.status == "scheduled" else "queued",
            schedule_id=record.schedule_id,
            recipients=record.recipients,
            notifications=record.notifications,
            skipped_users=record.skipped_users,
            counts=counts,
        )

    def notifications_page(
        self, event_id: uuid.UUID, status: str | None, limit: int, cursor: str | None
    ) -> NotificationPage | None:
        if event_id not in self.events:
            return None
        rows = sorted(
            (
                (str(channel), user_id, row)
                for (ev, channel, user_id), row in self.rows.items()
                if ev == event_id
            ),
            key=lambda item: (item[0], str(item[1])),
        )
        rows = [item for item in rows if status is None or item[2].status == status]
        if cursor:
            after_channel, after_user = cursor.split(":", 1)
            rows = [item for item in rows if (item[0], str(item[1])) > (after_channel, after_user)]
        page = rows[:limit]
        items = [
            NotificationView(
                user_id=user_id,
                channel=Channel(channel),
                status=row.status,
                reason=row.reason,
                attempts=row.attempts,
                sent_at=row.sent_at,
                error=row.error,
            )
            for channel, user_id, row in page
        ]
        more = len(rows) > limit
        return NotificationPage(items=items, next_cursor=f"{page[-1][0]}:{page[-1][1]}" if more else None)

    # ---- outbox --------------------------------------------------------------------------------

    def hand_back(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        user_ids: Sequence[uuid.UUID],
        remainder: OutboundMessage,
    ) -> None:
        super().hand_back(event_id, channel, token, user_ids, remainder)
        self.outbox[remainder.message_id] = OutboxRow(remainder, _utcnow())

    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        for message_id in message_ids:
            row = self.outbox[message_id]
            row.published_at, row.claimed_until = now, None

    def park(self, refused: Sequence[Refused], now: datetime) -> None:
        for refusal in refused:
            row = self.outbox[refusal.message_id]
            if row.published_at is None:
                row.parked_at, row.error, row.claimed_until = now, refusal.error, None

    def parked_count(self) -> int:
        return sum(1 for row in self.outbox.values() if row.parked_at is not None)

    def claim_unpublished(
        self, now: datetime, older_than: datetime, limit: int, lease_s: int
    ) -> list[OutboundMessage]:
        due = sorted(
            (
                row
                for row in self.outbox.values()
                if row.published_at is None
                and row.parked_at is None
                and row.created_at < older_than
                and (row.claimed_until is None or row.claimed_until < now)
            ),
            key=lambda row: row.created_at,
        )[:limit]
        for row in due:
            row.claimed_until = now + timedelta(seconds=lease_s)
        return [row.message for row in due]

    def unpublished(self) -> list[OutboundMessage]:
        """Waiting for the relay: neither published nor parked."""
        return [
            row.message for row in self.outbox.values() if row.published_at is None and row.parked_at is None
        ]

    def parked(self) -> dict[uuid.UUID, str | None]:
        return {message_id: row.error for message_id, row in self.outbox.items() if row.parked_at is not None}

    # ---- directory -----------------------------------------------------------------------------

    def upsert_users(self, users: Sequence[DirectoryUser]) -> int:
        for user in users:
            self.users[user.user_id] = user
        return len(users)

    def upsert_movies(self, movies: Sequence[DirectoryMovie]) -> int:
        for movie in movies:
            self.movies[movie.movie_id] = movie
        return len(movies)

    def find_movies(self, movie_ids: Sequence[str]) -> list[DirectoryMovie]:
        wanted = list(dict.fromkeys(uuid.UUID(raw) for raw in movie_ids))
        return [self.movies[movie_id] for movie_id in wanted if movie_id in self.movies]


def _message(
    event: NewEvent, channel: Channel, users: list[Recipient], content: list[Content], message_id: uuid.UUID
) -> NotificationMessage:
    return NotificationMessage(
        message_id=message_id,
        event_id=event.event_id,
        event_type=event.event_type,
        created_dt=event.created_dt,
        transport_type=channel,
        priority=event.priority,
        payload=MessagePayload(user=users, content=content),
    )


def _recipient(user: DirectoryUser, channel: Channel) -> Recipient:
    return Recipient(
        user_id=user.user_id,
        first_name=user.first_name,
        last_name=user.last_name,
        birthday_date=user.birthday,
        email=user.email if channel is Channel.EMAIL else None,
        phone=user.phone if channel is Channel.SMS else None,
        push_token=user.push_token if channel is Channel.PUSH else None,
        locale=user.locale,
        timezone=user.timezone,
    )
