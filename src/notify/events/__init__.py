"""Events: accepting them (validated against the directory, stored, fanned out to a user list or a
topic's audience in steps), topics and their subscribers, cancelling, and what the API reads of them.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from typing import TYPE_CHECKING

from notify import lazy_exports

if TYPE_CHECKING:
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

# Each public name's module, loaded on first use: a model or a port taken from this package (by an
# adapter, the Migrate function) does not load all of its logic and the libraries that logic needs.
_HOMES = {
    "AudienceSizes": "notify.events.ports",
    "Cancellation": "notify.events.cancellation",
    "Directory": "notify.events.ports",
    "DirectoryMovie": "notify.events.models",
    "DirectoryUser": "notify.events.models",
    "EVERYONE": "notify.events.ports",
    "EventAccepted": "notify.events.models",
    "EventCancellation": "notify.events.cancellation",
    "EventCancelled": "notify.events.cancellation",
    "EventRequest": "notify.events.models",
    "EventStore": "notify.events.ports",
    "EventView": "notify.events.models",
    "FanOutPolicy": "notify.events.fan_out",
    "FanOutReport": "notify.events.fan_out",
    "FanOutStep": "notify.events.ports",
    "FanOutView": "notify.events.models",
    "FanOuts": "notify.events.ports",
    "IngestPolicy": "notify.events.ingest",
    "IngestPorts": "notify.events.ingest",
    "Membership": "notify.events.ports",
    "NewEvent": "notify.events.ports",
    "NewSchedule": "notify.events.ports",
    "NotificationPage": "notify.events.models",
    "NotificationView": "notify.events.models",
    "Routes": "notify.events.ports",
    "StoredEvent": "notify.events.ports",
    "SubscriberPage": "notify.events.models",
    "SubscriberView": "notify.events.models",
    "SubscribersChange": "notify.events.models",
    "SubscribersChanged": "notify.events.models",
    "TopicPage": "notify.events.models",
    "TopicRequest": "notify.events.models",
    "TopicView": "notify.events.models",
    "Topics": "notify.events.ports",
    "Upserted": "notify.events.models",
    "accept_event": "notify.events.ingest",
    "advance_fan_outs": "notify.events.fan_out",
    "cancel_event": "notify.events.cancellation",
    "change_subscribers": "notify.events.topics",
    "delete_topic": "notify.events.topics",
    "describe_topic": "notify.events.topics",
    "find_event": "notify.events.queries",
    "page_notifications": "notify.events.queries",
    "page_subscribers": "notify.events.topics",
    "page_topics": "notify.events.topics",
    "put_topic": "notify.events.topics",
}

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


__getattr__ = lazy_exports(__name__, _HOMES)
