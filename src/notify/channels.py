"""Event types, channels, notification statuses and priority tiers: the routing table of the service."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class EventType(StrEnum):
    NEW_EPISODE = "new_episode"
    COMMENT_LIKED = "comment_liked"
    NEW_RELEASES_PROMO = "new_releases_promo"
    WATCH_LATER_REMINDER = "watch_later_reminder"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


class NotificationStatus(StrEnum):
    """Where a notification (one recipient on one channel) is. On its way: queued, sending, retrying,
    and deferred or held until the tick sends them (quiet hours, a digest window). Final: sent,
    unconfirmed (the provider may have it), digested (it went out inside a digest), delivered, failed,
    bounced, complained, skipped, expired, cancelled; delivered, bounced and complained come after
    sent, from the provider's reports."""

    QUEUED = "queued"
    SENDING = "sending"
    RETRYING = "retrying"
    DEFERRED = "deferred"
    HELD = "held"
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    DIGESTED = "digested"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Tier(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# Which channels an event type goes out on, in order of preference.
EVENT_CHANNELS: dict[EventType, tuple[Channel, ...]] = {
    EventType.NEW_EPISODE: (Channel.EMAIL, Channel.SMS, Channel.PUSH),
    EventType.COMMENT_LIKED: (Channel.PUSH, Channel.EMAIL),
    EventType.NEW_RELEASES_PROMO: (Channel.EMAIL,),
    EventType.WATCH_LATER_REMINDER: (Channel.EMAIL, Channel.PUSH),
}


# The channels a workflow version sends on at once, by its key and version, each with the index of the
# step that sends on it (the composition root gives the one that reads the stored versions).
ChannelsOf = Callable[[str, int], Mapping["Channel", int]]


def shipped_channels(event_type: str, version: int) -> dict[Channel, int]:
    """A built-in's channels as shipped (its version 1: a send per channel, all at once: step 0), for
    tools and tests that route without the workflows' store. KeyError for anything else."""
    if version != 1:
        raise KeyError(f"{event_type} version {version}")
    return dict.fromkeys(EVENT_CHANNELS[EventType(event_type)], 0)


# The user field that holds a channel's contact.
CONTACT_FIELD: dict[Channel, str] = {
    Channel.EMAIL: "email",
    Channel.SMS: "phone",
    Channel.PUSH: "push_token",
}

TIERS_BY_URGENCY: tuple[Tier, ...] = (Tier.HIGH, Tier.NORMAL, Tier.LOW)
DEFAULT_PRIORITY = 5


def tier_for(priority: int) -> Tier:
    if priority >= 7:
        return Tier.HIGH
    if priority >= 3:
        return Tier.NORMAL
    return Tier.LOW


def queue_name(channel: Channel, tier: Tier, prefix: str = "notify") -> str:
    return f"{prefix}-{channel}-{tier}"


# A queue's dead-letter queue is named `<queue>-dlq`, on SQS (template.yaml) and on RabbitMQ alike.
DEAD_LETTER_SUFFIX = "-dlq"


def all_queue_names(prefix: str = "notify") -> list[str]:
    return [queue_name(channel, tier, prefix) for channel in Channel for tier in TIERS_BY_URGENCY]


PRIORITIES = range(10)


@dataclass(frozen=True)
class QueueRouter:
    """Channel and priority → queue name, for one deployment's queue prefix. Built once (the
    composition root) and handed to everything that routes."""

    prefix: str

    def queue_for(self, channel: Channel, priority: int) -> str:
        return queue_name(channel, tier_for(priority), self.prefix)

    def queues_for(self, channels: Iterable[Channel], priority: int) -> dict[Channel, str]:
        return {channel: self.queue_for(channel, priority) for channel in channels}

    def routes_for(self, sends: Mapping[Channel, int], priority: int) -> dict[Channel, tuple[str, int]]:
        """Each send (channel → its step) with its queue: channel → (queue, step)."""
        return {channel: (self.queue_for(channel, priority), step) for channel, step in sends.items()}

    def table(self) -> dict[str, str]:
        """Every route keyed "<channel>-<priority>", for storage that routes rows set-wise."""
        return {
            f"{channel}-{priority}": self.queue_for(channel, priority)
            for channel in Channel
            for priority in PRIORITIES
        }

    def queues_by_urgency(self, channels: Iterable[Channel]) -> list[tuple[str, Channel]]:
        """The queues serving `channels`, the most urgent tier first."""
        wanted = list(channels)
        return [(queue_name(c, tier, self.prefix), c) for tier in TIERS_BY_URGENCY for c in wanted]

    def all_names(self) -> list[str]:
        return all_queue_names(self.prefix)
