"""Events: accepting them (validated against the directory, stored, fanned out to a user list or a
topic's audience in steps), topics and their subscribers, cancelling, and what the API reads of them.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from notify.events.cancellation import Cancellation, EventCancellation, EventCancelled, cancel_event
from notify.events.fan_out import FanOutPolicy, FanOutReport, advance_fan_outs
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import (
    DirectoryMovie,
    DirectoryUser,
    EventAccepted,
    EventRequest,
    EventView,
    FanOutView,
    NotificationPage,
    NotificationView,
    SubscriberPage,
    SubscribersChange,
    SubscribersChanged,
    SubscriberView,
    TopicPage,
    TopicRequest,
    TopicView,
    Upserted,
)
from notify.events.ports import (
    EVERYONE,
    AudienceSizes,
    Directory,
    EventStore,
    FanOuts,
    FanOutStep,
    Membership,
    NewEvent,
    NewSchedule,
    Routes,
    StoredEvent,
    Topics,
)
from notify.events.queries import find_event, page_notifications
from notify.events.topics import (
    change_subscribers,
    delete_topic,
    describe_topic,
    page_subscribers,
    page_topics,
    put_topic,
)

__all__ = [
    "EVERYONE",
    "AudienceSizes",
    "Cancellation",
    "Directory",
    "DirectoryMovie",
    "DirectoryUser",
    "EventAccepted",
    "EventCancellation",
    "EventCancelled",
    "EventRequest",
    "EventStore",
    "EventView",
    "FanOutPolicy",
    "FanOutReport",
    "FanOutStep",
    "FanOutView",
    "FanOuts",
    "IngestPolicy",
    "IngestPorts",
    "Membership",
    "NewEvent",
    "NewSchedule",
    "NotificationPage",
    "NotificationView",
    "Routes",
    "StoredEvent",
    "SubscriberPage",
    "SubscriberView",
    "SubscribersChange",
    "SubscribersChanged",
    "TopicPage",
    "TopicRequest",
    "TopicView",
    "Topics",
    "Upserted",
    "accept_event",
    "advance_fan_outs",
    "cancel_event",
    "change_subscribers",
    "delete_topic",
    "describe_topic",
    "find_event",
    "page_notifications",
    "page_subscribers",
    "page_topics",
    "put_topic",
]
