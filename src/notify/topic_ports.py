"""The port of topics: named sets of directory users, kept with their count."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from notify.topic_models import SubscriberPage, TopicPage, TopicView


@dataclass(frozen=True)
class Membership:
    """What a change of subscribers did."""

    added: int
    removed: int
    subscribers: int
    unknown_users: list[str]


class Topics(Protocol):
    def put_topic(self, topic: str, description: str | None) -> tuple[TopicView, bool]:
        """Create the topic, or update its description (None keeps it); True if it was created."""
        ...

    def find_topic(self, topic: str) -> TopicView | None: ...

    def delete_topic(self, topic: str) -> bool:
        """Delete the topic and its subscriptions; False if there was none."""
        ...

    def topics_page(self, limit: int, cursor: str | None) -> TopicPage: ...

    def change_subscribers(self, topic: str, add: Sequence[str], remove: Sequence[str]) -> Membership | None:
        """In one transaction: unsubscribe `remove`, subscribe those of `add` the directory knows (now:
        an event accepted before does not reach them). None if there is no such topic."""
        ...

    def subscribers_page(self, topic: str, limit: int, cursor: str | None) -> SubscriberPage | None:
        """A page of the topic's subscribers in user id order (`all`: the directory); None: no topic."""
        ...
