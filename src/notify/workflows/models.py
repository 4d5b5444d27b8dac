"""The workflows capability's models: a workflow's definition (its steps, templates, controls and
tracking) as `PUT /workflows/{key}` takes it, the answers of the workflow routes, and the template
context every template sees (the recipient and the content)."""

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from notify.channels import DEFAULT_PRIORITY, Channel, EventType
from notify.models import StrictModel, UuidText

WORKFLOW_KEY = re.compile(r"[a-z0-9_]{1,64}")
WORKFLOW_KEY_RULE = "must be 1 to 64 characters of a-z, 0-9 and '_'"
STEP_REF = re.compile(r"[a-z0-9_]{1,64}")
# The same rule as a route's path or query pattern (anchored: pydantic's patterns search).
WORKFLOW_KEY_PATTERN = f"^{WORKFLOW_KEY.pattern}$"
LOCALES = ("en", "ru")  # the directory's locales: a recipient reads one of them
MAX_STEPS = 20
MAX_DESCRIPTION = 1000
MAX_TEMPLATE_CHARS = 20_000
MAX_SECONDS = 30 * 24 * 3600  # the longest delay, wait or digest window a workflow may name: 30 days
MAX_AGE_SECONDS = 366 * 24 * 3600  # the longest max age or cap window: a year


def workflow_key(value: object) -> str:
    """The key, or ValueError; a built-in's as its EventType (a str too), as event types were before
    workflows."""
    if not isinstance(value, str) or not WORKFLOW_KEY.fullmatch(value):
        raise ValueError(WORKFLOW_KEY_RULE)
    return EventType(value) if value in EventType else value


def _step_ref(value: str) -> str:
    if not STEP_REF.fullmatch(value):
        raise ValueError("must be 1 to 64 characters of a-z, 0-9 and '_'")
    return value


WorkflowKey = Annotated[
    str, AfterValidator(workflow_key), WithJsonSchema({"type": "string", "pattern": WORKFLOW_KEY_PATTERN})
]
StepRef = Annotated[str, AfterValidator(_step_ref)]
Locale = Literal["en", "ru"]


class WorkflowState(StrEnum):
    """Active: events of it are accepted. Archived (DELETE): new events of it are refused (422); a PUT
    makes it active again."""

    ACTIVE = "active"
    ARCHIVED = "archived"


Seconds = Annotated[int, Field(ge=1, le=MAX_SECONDS)]
LongSeconds = Annotated[int, Field(ge=1, le=MAX_AGE_SECONDS)]

# What a condition may ask of an earlier send step's notification. An outcome is one of the first
# six; the engagement flags only move forward and may be true beside any outcome.
Outcome = Literal["sent", "delivered", "failed", "bounced", "complained", "skipped"]
Engagement = Literal["opened", "clicked", "read"]
NotificationState = Outcome | Engagement
OUTCOMES: tuple[str, ...] = ("sent", "delivered", "failed", "bounced", "complained", "skipped")
ENGAGEMENTS: tuple[str, ...] = ("opened", "clicked", "read")


# ---- Steps --------------------------------------------------------------------------------------


class Condition(StrictModel):
    """True when the notification of the send step `ref` is in `any` of the states, or, with
    `not`, in none of them."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)

    ref: StepRef
    any: list[NotificationState] | None = Field(default=None, min_length=1, max_length=9)
    not_: list[NotificationState] | None = Field(default=None, alias="not", min_length=1, max_length=9)

    @model_validator(mode="after")
    def _one_test(self) -> "Condition":
        if (self.any is None) == (self.not_ is None):
            raise ValueError("needs exactly one of any and not")
        return self

    def holds_for(self, states: frozenset[str]) -> bool:
        if self.any is not None:
            return any(state in states for state in self.any)
        assert self.not_ is not None
        return not any(state in states for state in self.not_)


class SendStep(StrictModel):
    """Send on `channel`, or on the first of `channels` that works (`mode: first_that_works`: on
    `skipped` or a permanent failure the next is tried at once). Skipped when `if` is false."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True, validate_by_name=True)

    type: Literal["send"]
    ref: StepRef | None = None
    channel: Channel | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=3)
    mode: Literal["first_that_works"] | None = None
    if_: Condition | None = Field(default=None, alias="if")

    @model_validator(mode="after")
    def _one_way_to_name_channels(self) -> "SendStep":
        if (self.channel is None) == (self.channels is None):
            raise ValueError("needs exactly one of channel and channels")
        if self.channels is not None:
            if len(set(self.channels)) != len(self.channels):
                raise ValueError("channels names a channel twice")
            if self.mode is None:
                raise ValueError("channels needs mode: first_that_works")
        elif self.mode is not None:
            raise ValueError("mode applies to channels, not to a single channel")
        return self

    @property
    def channel_order(self) -> tuple[Channel, ...]:
        return (self.channel,) if self.channel is not None else tuple(self.channels or ())


class DelayStep(StrictModel):
    type: Literal["delay"]
    seconds: Seconds


class WaitStep(StrictModel):
    """Wait until the condition holds (woken early by the feedback or engagement it waits for), at
    most `timeout_seconds`; the run goes on either way."""

    type: Literal["wait"]
    until: Condition
    timeout_seconds: Seconds


Step = Annotated[SendStep | DelayStep | WaitStep, Field(discriminator="type")]


# ---- Templates ----------------------------------------------------------------------------------

TemplateText = Annotated[str, Field(max_length=MAX_TEMPLATE_CHARS)]


class EmailTemplate(StrictModel):
    subject: TemplateText = Field(min_length=1)
    text: TemplateText = Field(min_length=1)
    html: TemplateText | None = None  # without it the e-mail is text only


class PushTemplate(StrictModel):
    title: TemplateText = Field(min_length=1)
    body: TemplateText = Field(min_length=1)


class SmsTemplate(StrictModel):
    text: TemplateText = Field(min_length=1)


class Templates(StrictModel):
    """Per channel, per locale. A recipient whose locale a channel lacks reads `en`, else the first."""

    email: dict[Locale, EmailTemplate] = Field(default_factory=dict)
    push: dict[Locale, PushTemplate] = Field(default_factory=dict)
    sms: dict[Locale, SmsTemplate] = Field(default_factory=dict)

    def locales(self, channel: Channel) -> list[str]:
        return list(getattr(self, channel))

    def for_locale(self, channel: Channel, locale: str) -> EmailTemplate | PushTemplate | SmsTemplate | None:
        per_locale: dict[str, EmailTemplate | PushTemplate | SmsTemplate] = getattr(self, channel)
        if locale in per_locale:
            return per_locale[locale]
        if "en" in per_locale:
            return per_locale["en"]
        return next(iter(per_locale.values()), None)


# ---- Controls and tracking --------------------------------------------------------------------


class Controls(StrictModel):
    digest_window_seconds: Seconds | None = Field(
        default=None, description="How long one recipient's notifications gather into a digest."
    )
    max_age_seconds: LongSeconds | None = Field(
        default=None, description="A notification older than this is expired, not sent late."
    )
    frequency_caps: dict[Channel, tuple[Annotated[int, Field(ge=1, le=10_000)], LongSeconds]] = Field(
        default_factory=dict, description="Per channel: at most N sends per rolling window of S seconds."
    )
    quiet_hours: bool = Field(
        default=True, description="false: sent in the recipient's quiet hours too (time-critical types)."
    )


class Tracking(StrictModel):
    opens: bool = False
    clicks: bool = False


class WorkflowDefinition(StrictModel):
    """`PUT /workflows/{key}`: what one version of a workflow is."""

    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    priority: int = Field(default=DEFAULT_PRIORITY, ge=0, le=9)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    templates: Templates = Field(default_factory=Templates)
    controls: Controls = Field(default_factory=Controls)
    tracking: Tracking = Field(default_factory=Tracking)

    def send_steps(self) -> list[tuple[int, SendStep]]:
        return [(index, step) for index, step in enumerate(self.steps) if isinstance(step, SendStep)]

    def channels_used(self) -> list[Channel]:
        used = [channel for _, step in self.send_steps() for channel in step.channel_order]
        return list(dict.fromkeys(used))

    def immediate_sends(self) -> dict[Channel, int]:
        """What an event of a workflow whose sends all go out at once is made of: each channel with its
        rows' step, 0 for all (they go out as one, and validation gives each its own channel). None for
        a workflow with runs: its run makes every send, each row with its send step's index."""
        if not self.immediate:
            return {}
        return {channel: 0 for channel in self.channels_used()}

    @property
    def immediate(self) -> bool:
        """Every step an unconditional send on one channel: the event's rows are all made at once,
        with no run (today's path at today's cost)."""
        return all(
            isinstance(step, SendStep) and step.channel is not None and step.if_ is None
            for step in self.steps
        )


# ---- Answers --------------------------------------------------------------------------------------


class VersionSummary(BaseModel):
    version: int
    created_at: datetime


class WorkflowVersionView(BaseModel):
    key: str
    version: int
    built_in: bool
    created_at: datetime
    definition: WorkflowDefinition


class WorkflowView(BaseModel):
    """`GET /workflows/{key}`: the current version, and every version."""

    key: str
    built_in: bool
    state: WorkflowState
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    definition: WorkflowDefinition
    versions: list[VersionSummary]


class WorkflowSummary(BaseModel):
    key: str
    description: str | None
    built_in: bool
    state: WorkflowState
    version: int
    updated_at: datetime


class WorkflowPage(BaseModel):
    items: list[WorkflowSummary]
    next_cursor: str | None


class WorkflowSaved(BaseModel):
    key: str
    version: int
    created: bool  # the first version of a new workflow


# ---- The template context -----------------------------------------------------------------------


class Recipient(BaseModel):
    """A recipient as templates see it (`user`): the directory's fields."""

    user_id: uuid.UUID
    notification_id: uuid.UUID | None = None  # the row this message is for (absent in version 1 messages)
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
    """A movie of the event's content, as templates see it (`content`, a list)."""

    movie_id: uuid.UUID
    title: str
    season: int | None = None
    episode: int | None = None
    release_date: date | None = None


class PreviewRequest(StrictModel):
    user_id: UuidText
    content: list[UuidText] = Field(default_factory=list, max_length=1000)
    locale: Locale | None = None  # the user's own when left out


class RenderedEmail(BaseModel):
    subject: str
    text: str
    html: str | None


class RenderedPush(BaseModel):
    title: str
    body: str


class RenderedSms(BaseModel):
    text: str


class PreviewView(BaseModel):
    """The texts each channel's send step would send the user, rendered as the senders render them."""

    key: str
    version: int
    locale: str
    email: RenderedEmail | None = None
    push: RenderedPush | None = None
    sms: RenderedSms | None = None


# ---- A run, as GET /events/{id}/runs shows it ----------------------------------------------------


class RunStepView(BaseModel):
    step: int
    ref: str | None = None
    type: str | None = None  # send, delay, wait
    result: str  # sent, tried, skipped, failed, delayed, satisfied, timed_out, cancelled
    reason: str | None = None  # why it was skipped: condition, event_cancelled
    channel: str | None = None
    at: datetime


class RunView(BaseModel):
    event_id: uuid.UUID
    user_id: uuid.UUID
    workflow: str
    version: int
    state: Literal["waiting", "done", "cancelled"]
    position: int = Field(description="The next step to take.")
    waiting_until: datetime | None = Field(
        description="When the tick looks at it again (a wait may end sooner)."
    )
    steps: list[RunStepView]
