"""The fakes' shared tables: what each fake repository reads and writes, as PostgresStore's
repositories share one database."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from notify.access.ports import ApiKeyRecord
from notify.channels import Channel
from notify.delivery.models import NotificationMessage, PreferencesDocument, Recipient
from notify.errors import NotifyError, StorageUnavailable
from notify.events.models import DirectoryMovie, DirectoryUser
from notify.events.ports import NewEvent, NewSchedule
from notify.feedback.ports import Suppression
from notify.feedback.ses_events import Feedback
from notify.outbox.ports import OutboundMessage
from notify.scheduling.ports import Firing
from notify.workflows import WorkflowDefinition, WorkflowVersion, builtin_definitions
from notify.workflows.builtins import SHIPPED_AT


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
    notification_id: uuid.UUID = field(default_factory=uuid.uuid4)
    deliver_after: datetime | None = None
    screened_at: datetime | None = None  # when the controls last held it back
    queued_at: datetime | None = None  # set by tests only: the PostgreSQL trigger has no fake


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
    event_type: str
    created_dt: datetime
    priority: int
    status: str
    schedule_id: uuid.UUID | None
    recipients: int
    notifications: int
    skipped_users: list[str]
    idempotency_key: str | None
    request_hash: str | None
    # An event to an audience: its members as of the cutoff, fanned out in steps after the cursor.
    audience: str | None = None
    fan_out_cutoff: datetime | None = None
    fan_out_after: uuid.UUID | None = None
    fan_out_done: int = 0
    fan_out_complete: bool | None = None
    fanned: NewEvent | None = None  # what its steps make rows and messages from
    workflow_version: int = 1


@dataclass
class TopicRecord:
    description: str | None
    created_at: datetime
    updated_at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class StoredWorkflow:
    versions: list[WorkflowVersion]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    built_in: bool = False


def seeded_workflows(definitions: dict[str, WorkflowDefinition] | None = None) -> dict[str, StoredWorkflow]:
    """The built-ins as the migrations seed them (`definitions`: as a deployment configures them)."""
    definitions = definitions if definitions is not None else builtin_definitions()
    return {
        key: StoredWorkflow(
            [WorkflowVersion(key, 1, True, SHIPPED_AT, definition)], SHIPPED_AT, SHIPPED_AT, built_in=True
        )
        for key, definition in definitions.items()
    }


@dataclass
class FakeTables:
    """The in-memory state behind every fake repository; `down` makes the store refuse like a lost
    database, `clock` and `new_message_id` make time and ids predictable."""

    rows: dict[tuple[uuid.UUID, Channel, uuid.UUID], Row] = field(default_factory=dict)
    preferences: dict[uuid.UUID, PreferencesDocument] = field(default_factory=dict)
    suppressions: dict[tuple[str, str], Suppression] = field(default_factory=dict)  # by (channel, address)
    feedback: dict[tuple[str, str, str], tuple[Feedback, datetime]] = field(default_factory=dict)
    reservations: list[tuple[uuid.UUID, str, Channel, datetime, uuid.UUID]] = field(default_factory=list)
    writes: list[int] = field(default_factory=list)  # outcomes per record_outcomes call
    write_errors: list[NotifyError] = field(default_factory=list)  # raised by the next writes
    claim_errors: list[NotifyError] = field(default_factory=list)  # raised by the next claims, taking nothing
    # The next claims take their rows, then raise StorageUnavailable: a COMMIT that went through on a
    # connection the server dropped before its answer came back.
    lost_claim_answers: int = 0
    pending_errors: list[NotifyError] = field(default_factory=list)  # raised by the next pending() reads
    handed_back: list[OutboundMessage] = field(default_factory=list)  # what hand_back queued
    # What FakeLedger.add_message keeps for a hand-back: each event's message, each row's recipient.
    envelopes: dict[uuid.UUID, NotificationMessage] = field(default_factory=dict)
    recipients: dict[tuple[uuid.UUID, Channel, uuid.UUID], Recipient] = field(default_factory=dict)
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
    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    touches: int = 0
    key_hits: dict[str, list[datetime]] = field(default_factory=dict)
    # periodic syncs by name: (last run at, claimed until)
    syncs: dict[str, tuple[datetime | None, datetime | None]] = field(default_factory=dict)
    push_endpoints: dict[str, str] = field(default_factory=dict)  # push token → endpoint
    topics: dict[str, TopicRecord] = field(default_factory=dict)
    subscribers: dict[str, dict[uuid.UUID, datetime]] = field(default_factory=dict)  # topic → user → since
    joined: dict[uuid.UUID, datetime] = field(default_factory=dict)  # when each user joined the directory
    workflows: dict[str, StoredWorkflow] = field(default_factory=seeded_workflows)

    @staticmethod
    def _once_key(
        reservation: tuple[uuid.UUID, str, Channel, datetime, uuid.UUID],
    ) -> tuple[uuid.UUID, Channel, uuid.UUID]:
        """What makes a reservation unique, as the real table's index `frequency_reservations_once`."""
        user_id, _, channel, _, event_id = reservation
        return user_id, channel, event_id

    def add(self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID]) -> None:
        for user_id in user_ids:
            self.rows[(event_id, channel, user_id)] = Row()

    def check(self) -> None:
        if self.down:
            raise StorageUnavailable("fake store is down")
