"""Pydantic models at the edges: API bodies, API answers and queue messages."""

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from notify.channels import DEFAULT_PRIORITY, Channel, EventType
from notify.key_ports import Scope
from notify.text import single_line

MAX_USERS_PER_EVENT = 100_000
E164_PATTERN = re.compile(r"\+[0-9]{8,15}")  # used with fullmatch: `$` would let a trailing newline through
TOPIC_PATTERN = re.compile(r"[a-z0-9:_-]{1,200}")
_UUID_SPELLING = re.compile(r"\{?[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}\}?")
TOPIC_RULE = "must be 1 to 200 characters of a-z, 0-9, ':', '_' and '-'"


def _uuid_text(value: str) -> str:
    """As given (echoed in skipped_users); uuid.UUID alone passes urn:uuid:… that PostgreSQL refuses."""
    if not _UUID_SPELLING.fullmatch(value):
        raise ValueError("is not a valid UUID")
    return value


def _topic_name(value: str) -> str:
    if not TOPIC_PATTERN.fullmatch(value):
        raise ValueError(TOPIC_RULE)
    return value


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


def _cron(value: str) -> str:
    # Imported here so that the models stay importable without the scheduling module's deps.
    from notify.cron import check_cron

    check_cron(value)
    return value


UuidText = Annotated[str, AfterValidator(_uuid_text)]
ZoneName = Annotated[str, AfterValidator(_zone_name)]
CronText = Annotated[str, AfterValidator(_cron)]
TopicName = Annotated[str, AfterValidator(_topic_name)]
SingleLine = Annotated[str, AfterValidator(single_line)]  # what may reach a message header


# The largest value a PostgreSQL integer column holds: a larger number is refused as input.
MAX_STORED_INT = 2**31 - 1


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class EventRequest(StrictModel):
    event_type: EventType
    created_dt: AwareDatetime
    schedule: CronText | None = None
    start_dt: AwareDatetime | None = None
    timezone: ZoneName = "UTC"
    priority: int = Field(default=DEFAULT_PRIORITY, ge=0, le=9)
    payload: EventPayload


class FanOutView(BaseModel):
    """How far an event's rows are made: `recipients` as counted when it was accepted, `done` the
    recipients fanned out so far (an audience is fanned out in steps)."""

    recipients: int
    done: int
    complete: bool


class EventAccepted(BaseModel):
    event_id: uuid.UUID
    status: Literal["queued", "scheduled"]
    recipients: int
    notifications: int
    skipped_users: list[str]
    schedule_id: uuid.UUID | None = None
    next_run_at: datetime | None = None
    fan_out: FanOutView | None = None


class EventView(BaseModel):
    event_id: uuid.UUID
    event_type: EventType
    created_dt: datetime
    priority: int
    status: Literal["queued", "scheduled", "cancelled"]
    schedule_id: uuid.UUID | None
    recipients: int
    notifications: int
    skipped_users: list[str]
    counts: dict[str, int]
    audience: str | None = None
    fan_out: FanOutView | None = None


class NotificationView(BaseModel):
    user_id: uuid.UUID
    channel: Channel
    status: str
    reason: str | None
    attempts: int
    sent_at: datetime | None
    error: str | None
    deliver_after: datetime | None = None
    digested_into: uuid.UUID | None = None


class NotificationPage(BaseModel):
    items: list[NotificationView]
    next_cursor: str | None


# ---- Schedules ---------------------------------------------------------------------------------

ScheduleState = Literal["active", "paused", "done", "cancelled"]


class LastRun(BaseModel):
    event_id: uuid.UUID
    created_dt: datetime
    recipients: int
    notifications: int


class ScheduleView(BaseModel):
    schedule_id: uuid.UUID
    event_type: EventType
    priority: int
    cron: str | None
    timezone: str
    start_dt: datetime | None
    state: ScheduleState
    next_run_at: datetime | None
    last_run_at: datetime | None
    runs: int
    skipped_runs: int
    users: int
    created_at: datetime
    audience: str | None = None
    next_runs: list[datetime] = Field(default_factory=list)
    last_run: LastRun | None = None


class SchedulePage(BaseModel):
    items: list[ScheduleView]
    next_cursor: str | None


class SchedulePatch(StrictModel):
    state: Literal["active", "paused"] | None = None
    cron: CronText | None = None
    timezone: ZoneName | None = None


# ---- Recipient preferences -----------------------------------------------------------------------

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _clock(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise ValueError("must be a time of day as HH:MM (00:00 to 23:59)")
    return value


ClockText = Annotated[str, AfterValidator(_clock)]


class QuietHoursDocument(StrictModel):
    start: ClockText
    end: ClockText


class ChannelSwitches(StrictModel):
    """On/off per channel; what is left out is on."""

    email: bool = True
    sms: bool = True
    push: bool = True


def _default_quiet_hours() -> QuietHoursDocument:
    return QuietHoursDocument(start="22:00", end="08:00")


class PreferencesDocument(StrictModel):
    """`GET/PUT /users/{id}/preferences`: per event type and channel, a global switch per
    channel, and quiet hours (null turns them off). What a PUT leaves out takes the default."""

    new_episode: ChannelSwitches = Field(default_factory=ChannelSwitches)
    comment_liked: ChannelSwitches = Field(default_factory=ChannelSwitches)
    new_releases_promo: ChannelSwitches = Field(default_factory=ChannelSwitches)
    watch_later_reminder: ChannelSwitches = Field(default_factory=ChannelSwitches)
    channels: ChannelSwitches = Field(default_factory=ChannelSwitches)
    quiet_hours: QuietHoursDocument | None = Field(default_factory=_default_quiet_hours)


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


# ---- /suppressions ----------------------------------------------------------------------------


class SuppressionView(BaseModel):
    channel: Channel
    address: str
    reason: str
    created_at: datetime


class SuppressionPage(BaseModel):
    items: list[SuppressionView]
    next_cursor: str | None


class SuppressionRequest(StrictModel):
    reason: str = Field(default="operator", min_length=1, max_length=100)


# ---- /stats ------------------------------------------------------------------------------------


class StatsFigures(BaseModel):
    """Notifications handed to the provider in the window, by their status now (`sent`: sent or
    unconfirmed), and those skipped in it because the address is suppressed. A rate is bounced (or
    complained) over sent + delivered + bounced + complained, 0.0 when that is none."""

    sent: int
    delivered: int
    bounced: int
    complained: int
    suppressed: int
    bounce_rate: float
    complaint_rate: float


class StatsItem(StatsFigures):
    channel: Channel
    event_type: EventType


class StatsView(BaseModel):
    since: datetime
    until: datetime
    items: list[StatsItem]  # per channel and event type, those with any notification
    totals: dict[Channel, StatsFigures]  # per channel, every channel


# ---- /keys -------------------------------------------------------------------------------------

# A key made through the API without a rate_per_minute gets this one; `null` asks for none.
DEFAULT_RATE_PER_MINUTE = 600


class KeyRequest(StrictModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    rate_per_minute: int | None = Field(default=DEFAULT_RATE_PER_MINUTE, ge=1, le=MAX_STORED_INT)


class KeyView(BaseModel):
    """A key as listed: its id and what it may do, never its secret."""

    id: str
    name: str
    scopes: list[str]
    rate_per_minute: int | None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class IssuedKeyView(KeyView):
    key: str = Field(description="the API key itself: shown in this answer only, never again")


class KeyList(BaseModel):
    keys: list[KeyView]


# ---- Queue message (the design's outgoing model, versioned) ------------------------------------


class Recipient(BaseModel):
    user_id: uuid.UUID
    first_name: str | None = None
    last_name: str | None = None
    birthday_date: date | None = None
    email: str | None = None
    phone: str | None = None
    push_token: str | None = None
    locale: Literal["ru", "en"] = "en"
    timezone: str = "UTC"
    digest_count: int | None = Field(
        default=None, description="Set on a digest: how many notifications it stands for."
    )


class Content(BaseModel):
    movie_id: uuid.UUID
    title: str
    season: int | None = None
    episode: int | None = None
    release_date: date | None = None


class MessagePayload(BaseModel):
    user: list[Recipient]
    content: list[Content]


class NotificationMessage(BaseModel):
    """One message on a channel queue: an event for a chunk of its recipients."""

    schema_version: Literal[1] = 1
    message_id: uuid.UUID
    event_id: uuid.UUID
    event_type: EventType
    created_dt: datetime
    transport_type: Channel
    priority: int
    payload: MessagePayload
