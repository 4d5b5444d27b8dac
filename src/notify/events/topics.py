"""Topics: named sets of users an event can go to instead of a list of ids, and the built-in `all`."""

import uuid

from notify.errors import FieldProblem, InvalidInput, NotFound, StateConflict
from notify.events.models import SubscriberPage, SubscribersChange, SubscribersChanged, TopicPage, TopicView
from notify.events.ports import EVERYONE, Topics
from notify.models import TOPIC_PATTERN, TOPIC_RULE

_TOPIC_LOC = ("path", "topic")


def checked_topic(topic: str) -> str:
    """The path's topic name, or InvalidInput naming it."""
    if not TOPIC_PATTERN.fullmatch(topic):
        raise InvalidInput([FieldProblem(_TOPIC_LOC, TOPIC_RULE)])
    return topic


def _not_built_in(topic: str) -> str:
    if checked_topic(topic) == EVERYONE:
        raise StateConflict(f"{EVERYONE} is built in (every directory user) and cannot be changed")
    return topic


def put_topic(topic: str, description: str | None, *, topics: Topics) -> tuple[TopicView, bool]:
    return topics.put_topic(_not_built_in(topic), description)


def describe_topic(topic: str, *, topics: Topics) -> TopicView:
    found = topics.find_topic(checked_topic(topic))
    if found is None:
        raise NotFound(f"no topic {topic}")
    return found


def delete_topic(topic: str, *, topics: Topics) -> None:
    if not topics.delete_topic(_not_built_in(topic)):
        raise NotFound(f"no topic {topic}")


def page_topics(*, limit: int, cursor: str | None, topics: Topics) -> TopicPage:
    return topics.topics_page(limit, cursor)


def change_subscribers(topic: str, change: SubscribersChange, *, topics: Topics) -> SubscribersChanged:
    """Subscribe and unsubscribe in bulk; an id in both lists is refused, unknown ids are listed back."""
    both = {str(uuid.UUID(raw)) for raw in change.add} & {str(uuid.UUID(raw)) for raw in change.remove}
    if both:
        problem = f"{len(both)} ids are also in add, e.g. {min(both)}"
        raise InvalidInput([FieldProblem(("body", "remove"), problem)])
    done = topics.change_subscribers(_not_built_in(topic), change.add, change.remove)
    if done is None:
        raise NotFound(f"no topic {topic}")
    return SubscribersChanged(
        topic=topic,
        added=done.added,
        removed=done.removed,
        subscribers=done.subscribers,
        skipped_users=done.unknown_users,
    )


def page_subscribers(topic: str, *, limit: int, cursor: str | None, topics: Topics) -> SubscriberPage:
    page = topics.subscribers_page(checked_topic(topic), limit, cursor)
    if page is None:
        raise NotFound(f"no topic {topic}")
    return page
