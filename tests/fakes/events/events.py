"""Events and their fan-out in memory, following PostgresEvents' rules."""

import uuid
from collections.abc import Sequence

from notify.channels import CONTACT_FIELD, Channel
from notify.delivery.models import Content, MessagePayload, NotificationMessage, Recipient
from notify.errors import DuplicateIdempotencyKey
from notify.events.models import DirectoryUser, EventView, FanOutView, NotificationPage, NotificationView
from notify.events.ports import DeferredEvent, NewEvent, NewSchedule, StoredEvent
from notify.outbox.ports import OutboundMessage
from tests.fakes.tables import EventRecord, FakeTables, OutboxRow


class FakeEvents(FakeTables):
    """Fan-out per channel to users with a contact, chunked outbox messages, one event per idempotency key."""

    def find_by_idempotency_keys(self, keys: Sequence[str]) -> dict[str, StoredEvent]:
        found = {key: self.find_by_idempotency_key(key) for key in keys}
        return {key: stored for key, stored in found.items() if stored is not None}

    def create_events(self, events: Sequence[NewEvent | DeferredEvent]) -> list[StoredEvent | None]:
        """As PostgresEventBatches: one transaction (nothing is stored if the store is down), an event
        whose key is taken stores nothing."""
        self.check()
        stored: list[StoredEvent | None] = []
        for item in events:
            try:
                if isinstance(item, DeferredEvent):
                    made = self.create_scheduled_event(
                        item.event, item.schedule, item.recipients, item.skipped_users
                    )
                else:
                    made = self.create_event(item)
            except DuplicateIdempotencyKey:
                stored.append(None)
            else:
                stored.append(made)
        return stored

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
                    fan_out=None
                    if record.fan_out_complete is None
                    else FanOutView(
                        recipients=record.recipients,
                        done=record.fan_out_done,
                        complete=record.fan_out_complete,
                    ),
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
            workflow_version=event.workflow_version,
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
        if event.audience is not None:
            return self._create_audience_event(event)
        requested = sorted({uuid.UUID(raw) for raw in event.user_ids})
        rows, recipients, messages = self._fan_out_users(event, requested)
        skipped = self._unknown(event.user_ids)
        self._insert_event(event, "queued", None, len(recipients), rows, skipped)
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

    def _create_audience_event(self, event: NewEvent) -> StoredEvent:
        """The event alone, its members those of now (the cutoff), fanned out by FakeFanOuts' steps."""
        self._insert_event(event, "queued", None, event.audience_size, 0, [])
        record = self.events[event.event_id]
        record.audience, record.fan_out_cutoff, record.fanned = event.audience, self.clock(), event
        record.fan_out_done, record.fan_out_complete = 0, False
        return StoredEvent(
            event_id=event.event_id,
            status="queued",
            recipients=event.audience_size,
            notifications=0,
            skipped_users=[],
            schedule_id=None,
            next_run_at=None,
            request_hash=event.request_hash,
            fan_out=FanOutView(recipients=event.audience_size, done=0, complete=False),
        )

    def _fan_out_users(
        self, event: NewEvent, user_ids: Sequence[uuid.UUID]
    ) -> tuple[int, set[uuid.UUID], list[OutboundMessage]]:
        """Rows per channel for those of `user_ids` with a contact on it, and their outbox messages
        (stored): the rows made, the users reached, the messages."""
        content = [Content.model_validate(movie.model_dump()) for movie in event.content]
        messages: list[OutboundMessage] = []
        rows = 0
        recipients: set[uuid.UUID] = set()
        for channel in event.channels:
            contact = CONTACT_FIELD[channel]
            reachable = [
                self.users[user_id]
                for user_id in user_ids
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
        for outbound in messages:
            self.outbox[outbound.message_id] = OutboxRow(outbound, created_at=self.clock())
        return rows, recipients, messages

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
            and (
                not channels
                or any(getattr(self.users[user_id], CONTACT_FIELD[channel]) for channel in channels)
            )
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
            audience=record.audience,
            fan_out=_progress(record),
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
                id=row.notification_id,
                user_id=user_id,
                channel=Channel(channel),
                step=0,
                step_ref=None,
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


def _progress(record: EventRecord) -> FanOutView | None:
    """As PostgresEvents: none for a schedule's own event; a list of users is done at once."""
    if record.status == "scheduled":
        return None
    if record.fan_out_complete is None:
        return FanOutView(recipients=record.recipients, done=record.recipients, complete=True)
    return FanOutView(
        recipients=record.recipients, done=record.fan_out_done, complete=record.fan_out_complete
    )


def _message(
    event: NewEvent, channel: Channel, users: list[Recipient], content: list[Content], message_id: uuid.UUID
) -> NotificationMessage:
    return NotificationMessage(
        message_id=message_id,
        event_id=event.event_id,
        event_type=event.event_type,
        workflow_version=event.workflow_version,
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
