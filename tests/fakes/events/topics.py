"""Topics and the stepwise fan-out of events to them, in memory, following PostgresTopics' and
PostgresFanOuts' rules."""

import dataclasses
import uuid
from collections.abc import Sequence

from notify.errors import FieldProblem, InvalidInput
from notify.events.models import SubscriberPage, SubscriberView, TopicPage, TopicView
from notify.events.ports import EVERYONE, FanOutStep, Membership, Routes
from notify.models import TOPIC_PATTERN
from tests.fakes.events.events import FakeEvents
from tests.fakes.tables import EventRecord, FakeTables, TopicRecord


class FakeTopics(FakeTables):
    """Topics keep their subscribers by user id; `all` is the directory, never stored."""

    def _view(self, topic: str) -> TopicView:
        record = self.topics[topic]
        return TopicView(
            topic=topic,
            description=record.description,
            subscribers=len(self.subscribers[topic]),
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    def put_topic(self, topic: str, description: str | None) -> tuple[TopicView, bool]:
        self.check()
        now = self.clock()
        record = self.topics.get(topic)
        if record is None:
            self.topics[topic] = TopicRecord(description, created_at=now, updated_at=now)
            self.subscribers[topic] = {}
            return self._view(topic), True
        if description is not None:
            record.description = description
        record.updated_at = now
        return self._view(topic), False

    def find_topic(self, topic: str) -> TopicView | None:
        self.check()
        if topic == EVERYONE:
            return TopicView(
                topic=EVERYONE, description="every directory user", subscribers=len(self.users), built_in=True
            )
        return self._view(topic) if topic in self.topics else None

    def delete_topic(self, topic: str) -> bool:
        self.check()
        self.subscribers.pop(topic, None)
        return self.topics.pop(topic, None) is not None

    def topics_page(self, limit: int, cursor: str | None) -> TopicPage:
        if cursor is not None and not TOPIC_PATTERN.fullmatch(cursor):
            raise InvalidInput([FieldProblem(("query", "cursor"), "is not a cursor this API gave out")])
        names = [name for name in sorted(self.topics) if cursor is None or name > cursor]
        page = names[:limit]
        return TopicPage(
            items=[self._view(name) for name in page],
            next_cursor=page[-1] if len(names) > limit else None,
        )

    def change_subscribers(self, topic: str, add: Sequence[str], remove: Sequence[str]) -> Membership | None:
        self.check()
        if topic not in self.topics:
            return None
        members, now = self.subscribers[topic], self.clock()
        removed = sum(members.pop(uuid.UUID(raw), None) is not None for raw in set(remove))
        asked = sorted({uuid.UUID(raw) for raw in add})
        added = 0
        for user_id in asked:
            if user_id in self.users and user_id not in members:
                members[user_id] = now
                added += 1
        self.topics[topic].updated_at = now
        unknown = [str(user_id) for user_id in asked if user_id not in self.users]
        return Membership(added=added, removed=removed, subscribers=len(members), unknown_users=unknown)

    def subscribers_page(self, topic: str, limit: int, cursor: str | None) -> SubscriberPage | None:
        if topic == EVERYONE:
            since = {user_id: self.joined[user_id] for user_id in self.users}
        elif topic in self.topics:
            since = self.subscribers[topic]
        else:
            return None
        after = uuid.UUID(cursor) if cursor else uuid.UUID(int=0)
        ids = [user_id for user_id in sorted(since) if user_id > after]
        page = ids[:limit]
        return SubscriberPage(
            items=[SubscriberView(user_id=user_id, subscribed_at=since[user_id]) for user_id in page],
            next_cursor=str(page[-1]) if len(ids) > limit else None,
        )


class FakeFanOuts(FakeEvents):
    """AudienceSizes and FanOuts: a step takes the next members after the cursor who were members at the
    cutoff, makes their rows and messages as FakeEvents does for a list of users, and moves the cursor."""

    def audience_size(self, topic: str) -> int | None:
        self.check()
        if topic == EVERYONE:
            return len(self.users)
        members = self.subscribers.get(topic)
        return None if members is None else len(members)

    def fan_out_step(
        self, event_id: uuid.UUID | None, *, members: int, routes: Routes, chunk_size: int
    ) -> FanOutStep | None:
        self.check()
        record = next(
            (
                r
                for r in self.events.values()
                if r.fan_out_complete is False and (event_id is None or r.event_id == event_id)
            ),
            None,
        )
        if record is None:
            return None
        assert record.fanned is not None
        walked = self._next_members(record, members)
        routed = routes(record.event_type, record.workflow_version, record.priority)
        event = dataclasses.replace(
            record.fanned,
            queue_by_channel={channel: queue for channel, (queue, _) in routed.items()},
            step_by_channel={channel: step for channel, (_, step) in routed.items()},
            chunk_size=chunk_size,
        )
        rows, _, messages = self._fan_out_users(event, walked)
        if walked:
            record.fan_out_after = walked[-1]
        record.fan_out_done += len(walked)
        record.notifications += rows
        record.fan_out_complete = len(walked) < members
        return FanOutStep(
            event_id=record.event_id,
            members=len(walked),
            notifications=rows,
            done=record.fan_out_done,
            complete=record.fan_out_complete,
            outbox=messages,
        )

    def _next_members(self, record: EventRecord, members: int) -> list[uuid.UUID]:
        assert record.fan_out_cutoff is not None
        assert record.audience is not None
        since = self.joined if record.audience == EVERYONE else self.subscribers.get(record.audience, {})
        after = record.fan_out_after or uuid.UUID(int=0)
        eligible = sorted(
            user_id
            for user_id, at in since.items()
            if user_id > after and at <= record.fan_out_cutoff and user_id in self.users
        )
        return eligible[:members]
