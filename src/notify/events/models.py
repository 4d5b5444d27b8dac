"""The API's models of topics: named sets of users an event can go to (`payload.audience`)."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from notify.models import MAX_USERS_PER_EVENT, StrictModel, UuidText

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
