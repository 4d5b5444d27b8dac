"""The delivery capability's models: the queue message a sender takes, and a recipient's preferences."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
)

from notify.channels import Channel
from notify.models import StrictModel
from notify.workflows import Content as Content  # the template context: delivery's message carries it
from notify.workflows import Recipient as Recipient
from notify.workflows import WorkflowKey

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
    channel, and quiet hours (null turns them off). What a PUT leaves out takes the default.
    `workflows` holds the switches of any workflow by its key (a built-in's too: a channel is off
    when either place turns it off)."""

    new_episode: ChannelSwitches = Field(default_factory=ChannelSwitches)
    comment_liked: ChannelSwitches = Field(default_factory=ChannelSwitches)
    new_releases_promo: ChannelSwitches = Field(default_factory=ChannelSwitches)
    watch_later_reminder: ChannelSwitches = Field(default_factory=ChannelSwitches)
    # No count limit: an unsubscribe link adds a key whatever is there (the request's size bounds a PUT).
    workflows: dict[WorkflowKey, ChannelSwitches] = Field(default_factory=dict)
    channels: ChannelSwitches = Field(default_factory=ChannelSwitches)
    quiet_hours: QuietHoursDocument | None = Field(default_factory=_default_quiet_hours)


class EngagementTimes(BaseModel):
    """When a recipient first opened, clicked or read a notification (None: not yet)."""

    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    read_at: datetime | None = None


# ---- Queue message (the design's outgoing model, versioned) ------------------------------------


class MessagePayload(BaseModel):
    user: list[Recipient]
    content: list[Content]


class NotificationMessage(BaseModel):
    """One message on a channel queue: an event for a chunk of its recipients."""

    # 2 (as storage writes them): `step`, and each recipient's `notification_id`; 1 (or none, queued
    # before steps) reads as step 0.
    schema_version: Literal[1, 2] = 1
    message_id: uuid.UUID
    event_id: uuid.UUID
    event_type: WorkflowKey
    workflow_version: int = 1  # absent from messages queued before workflows: the built-ins' first
    step: int = 0  # the send step of the workflow the message's rows were made by
    runs: bool = False  # the event's workflow has runs: an outcome wakes the recipient's run
    created_dt: datetime
    transport_type: Channel
    priority: int
    payload: MessagePayload
