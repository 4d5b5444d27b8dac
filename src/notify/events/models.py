"""The API's models of topics: named sets of users an event can go to (`payload.audience`)."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    SkipValidation,
    field_validator,
    model_validator,
)

from notify.channels import DEFAULT_PRIORITY, Channel, NotificationStatus
from notify.models import (
    E164_PATTERN,
    MAX_STORED_INT,
    MAX_USERS_PER_EVENT,
    CronText,
    ErrorList,
    SingleLine,
    StrictModel,
    TopicName,
    UuidText,
    ZoneName,
)
from notify.workflows import WorkflowKey

MAX_DESCRIPTION = 1000


class TopicRequest(StrictModel):
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)


class TopicView(BaseModel):
    topic: str
    description: str | None
    subscribers: int
    built_in: bool = False  # `all`: every directory user, never subscribed to
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TopicPage(BaseModel):
    items: list[TopicView]
    next_cursor: str | None


class SubscribersChange(StrictModel):
    add: list[UuidText] = Field(default_factory=list, max_length=MAX_USERS_PER_EVENT)
    remove: list[UuidText] = Field(default_factory=list, max_length=MAX_USERS_PER_EVENT)


class SubscribersChanged(BaseModel):
    topic: str
    added: int  # new subscriptions (ids already subscribed are not counted again)
    removed: int
    subscribers: int  # the topic's count afterwards
    skipped_users: list[str]  # ids to add that the directory does not know


class SubscriberView(BaseModel):
    user_id: uuid.UUID
    subscribed_at: datetime


class SubscriberPage(BaseModel):
    items: list[SubscriberView]
    next_cursor: str | None


# ---- POST /events -----------------------------------------------------------------------------


class EventPayload(StrictModel):
    """Who gets the event: `user` (the ids) or `audience` (a topic's members when it is fanned out)."""

    user: list[UuidText] | None = Field(default=None, min_length=1, max_length=MAX_USERS_PER_EVENT)
    audience: TopicName | None = None
    content: list[UuidText] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _one_kind_of_recipients(self) -> "EventPayload":
        if (self.user is None) == (self.audience is None):
            raise ValueError("needs exactly one of user (user ids) and audience (a topic name)")
        return self


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class EventRequest(StrictModel):
    event_type: WorkflowKey = Field(description="The key of an active workflow (GET /workflows).")
    created_dt: AwareDatetime
    schedule: CronText | None = None
    start_dt: AwareDatetime | None = None
    timezone: ZoneName = "UTC"
    # The document names no default: left out, the workflow's own priority applies (a generated client
    # would otherwise send the model's default as if it were chosen).
    priority: int = Field(
        default=DEFAULT_PRIORITY,
        ge=0,
        le=9,
        description="0-9; the workflow's own priority when left out.",
        json_schema_extra=_no_default,
    )
    payload: EventPayload


class FanOutView(BaseModel):
    """How far an event's rows are made: `recipients` as counted when it was accepted, `done` the
    recipients fanned out so far (an audience is fanned out in steps)."""

    recipients: int
    done: int
    complete: bool


class EventStatus(StrEnum):
    """An event is queued (its notifications are made, or being made for an audience), scheduled (it
    fires later, or on a cron) or cancelled. An accepted event is queued or scheduled."""

    QUEUED = "queued"
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class EventAccepted(BaseModel):
    event_id: uuid.UUID
    status: EventStatus
    recipients: int
    notifications: int
    skipped_users: list[str]
    schedule_id: uuid.UUID | None = None
    next_run_at: datetime | None = None
    fan_out: FanOutView | None = None


# ---- POST /events/batch -------------------------------------------------------------------------

MAX_BATCH_EVENTS = 100
MAX_BATCH_BYTES = 1_048_576  # also bounds a batch's events × users: about 27,000 user ids in all
IDEMPOTENCY_KEY_LENGTH = 200


class BatchEvent(EventRequest):
    """One event of a batch: what POST /events takes, with the key that header would carry."""

    idempotency_key: SingleLine | None = Field(  # one line, as the header that shares its namespace
        default=None,
        min_length=1,
        max_length=IDEMPOTENCY_KEY_LENGTH,
        description="As the Idempotency-Key header of POST /events, in the same namespace: an event "
        "posted again with its key answers as the first time. Events without one are not deduplicated.",
    )


class EventBatch(StrictModel):
    # Each event is validated on its own by the ingest (one refused event does not refuse the others):
    # the router checks only that they are a list, of at most MAX_BATCH_EVENTS.
    events: list[SkipValidation[BatchEvent]] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class BatchResult(BaseModel):
    """What POST /events would have answered for the event: its status and its body."""

    status: Literal[202, 409, 422]
    body: EventAccepted | ErrorList


class BatchAccepted(BaseModel):
    """A result per event of the batch, in its order."""

    results: list[BatchResult]


class EventView(BaseModel):
    event_id: uuid.UUID
    event_type: str
    created_dt: datetime
    priority: int
    status: EventStatus
    schedule_id: uuid.UUID | None
    recipients: int
    notifications: int
    skipped_users: list[str]
    counts: dict[str, int]
    audience: str | None = None
    fan_out: FanOutView | None = None


class Engagement(BaseModel):
    """When the recipient first opened, clicked or read it (None: not seen)."""

    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    read_at: datetime | None = None


class NotificationView(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    channel: Channel
    step: int = Field(description="The index of the workflow's send step that made it.")
    step_ref: str | None = Field(description="That step's ref, when it has one.")
    status: NotificationStatus
    reason: str | None
    attempts: int
    sent_at: datetime | None
    error: str | None
    deliver_after: datetime | None = None
    digested_into: uuid.UUID | None = None
    engagement: Engagement = Field(default_factory=Engagement)


class NotificationPage(BaseModel):
    items: list[NotificationView]
    next_cursor: str | None


# ---- Directory ---------------------------------------------------------------------------------


class DirectoryUser(StrictModel):
    user_id: uuid.UUID
    first_name: SingleLine | None = None
    last_name: SingleLine | None = None
    email: SingleLine | None = Field(default=None, max_length=254)
    phone: str | None = None
    push_token: SingleLine | None = Field(default=None, max_length=4096)
    birthday: date | None = None
    locale: Literal["ru", "en"] = "en"
    timezone: ZoneName = "UTC"

    @field_validator("email")
    @classmethod
    def _email_has_at(cls, value: str | None) -> str | None:
        if value is not None and (value.count("@") != 1 or value.startswith("@") or value.endswith("@")):
            raise ValueError("is not an e-mail address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone_is_e164(cls, value: str | None) -> str | None:
        if value is not None and not E164_PATTERN.fullmatch(value):
            raise ValueError("must be E.164: '+' and 8 to 15 digits")
        return value


class DirectoryMovie(StrictModel):
    movie_id: uuid.UUID
    title: SingleLine = Field(min_length=1, max_length=500)
    season: int | None = Field(default=None, ge=0, le=MAX_STORED_INT)
    episode: int | None = Field(default=None, ge=0, le=MAX_STORED_INT)
    release_date: date | None = None


class Upserted(BaseModel):
    upserted: int
