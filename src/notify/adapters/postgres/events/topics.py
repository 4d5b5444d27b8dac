"""Topics and their subscribers. A topic keeps its count, changed in the transaction that changes its
subscribers, so an event to a million subscribers is counted without counting them."""

import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from notify.adapters.postgres.cursors import decode_cursor, encode_cursor
from notify.adapters.postgres.database import Repository
from notify.events import EVERYONE, Membership, SubscriberPage, SubscriberView, TopicPage, TopicView
from notify.models import TOPIC_PATTERN

_EVERYONE_DESCRIPTION = "every directory user"
_TOPIC_COLUMNS = "topic, description, subscribers, created_at, updated_at"

# Subscriptions are stamped with the database's clock, the one an event's cutoff is taken by.
_SUBSCRIBE_SQL = """
WITH asked AS (SELECT DISTINCT unnest(%(add)s::uuid[]) AS user_id),
subscribed AS (
    INSERT INTO topic_subscribers (topic, user_id, subscribed_at)
    SELECT %(topic)s, a.user_id, now() FROM asked a JOIN directory_users u USING (user_id)
    ON CONFLICT DO NOTHING
    RETURNING user_id
)
SELECT (SELECT count(*) FROM subscribed),
       coalesce((SELECT array_agg(a.user_id::text ORDER BY a.user_id) FROM asked a
                 WHERE NOT EXISTS (SELECT 1 FROM directory_users u WHERE u.user_id = a.user_id)), '{}')
"""


TOPICS, SUBSCRIBERS = "topics", "subscribers"  # the labels of their cursors


def _topic_key(text: str) -> None:
    """A topics cursor holds a topic name, nothing else (a NUL would reach the database otherwise)."""
    if not TOPIC_PATTERN.fullmatch(text):
        raise ValueError("not a topic name")


def _view(row: dict[str, Any]) -> TopicView:
    return TopicView(**row)


class PostgresTopics(Repository):
    """Topics."""

    def put_topic(self, topic: str, description: str | None) -> tuple[TopicView, bool]:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                f"""
                INSERT INTO topics (topic, description) VALUES (%(topic)s, %(description)s)
                ON CONFLICT (topic) DO UPDATE SET
                    description = coalesce(EXCLUDED.description, topics.description), updated_at = now()
                RETURNING {_TOPIC_COLUMNS}, (xmax = 0) AS created
                """,
                {"topic": topic, "description": description},
            ).fetchone()
        assert row is not None
        created = bool(row.pop("created"))
        return _view(row), created

    def find_topic(self, topic: str) -> TopicView | None:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            if topic == EVERYONE:
                count = cur.execute("SELECT count(*) AS n FROM directory_users").fetchone()
                assert count is not None
                return TopicView(
                    topic=EVERYONE, description=_EVERYONE_DESCRIPTION, subscribers=count["n"], built_in=True
                )
            row = cur.execute(f"SELECT {_TOPIC_COLUMNS} FROM topics WHERE topic = %s", (topic,)).fetchone()
        return None if row is None else _view(row)

    def delete_topic(self, topic: str) -> bool:
        with self._connection() as conn:
            return conn.execute("DELETE FROM topics WHERE topic = %s", (topic,)).rowcount > 0

    def topics_page(self, limit: int, cursor: str | None) -> TopicPage:
        after = decode_cursor(cursor, {TOPICS}, check=_topic_key)[1] if cursor else ""
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT {_TOPIC_COLUMNS} FROM topics WHERE topic > %s ORDER BY topic LIMIT %s",
                (after, limit + 1),
            ).fetchall()
        more, rows = len(rows) > limit, rows[:limit]
        return TopicPage(
            items=[_view(row) for row in rows],
            next_cursor=encode_cursor(TOPICS, rows[-1]["topic"]) if more else None,
        )

    def change_subscribers(self, topic: str, add: Sequence[str], remove: Sequence[str]) -> Membership | None:
        with self._connection() as conn:
            # The row lock orders concurrent changes of one topic, so its count stays exact.
            if conn.execute("SELECT 1 FROM topics WHERE topic = %s FOR UPDATE", (topic,)).fetchone() is None:
                return None
            removed = 0
            if remove:
                removed = conn.execute(
                    "DELETE FROM topic_subscribers WHERE topic = %s AND user_id = ANY(%s::uuid[])",
                    (topic, list(remove)),
                ).rowcount
            added, unknown = 0, []
            if add:
                row = conn.execute(_SUBSCRIBE_SQL, {"topic": topic, "add": list(add)}).fetchone()
                assert row is not None
                added, unknown = int(row[0]), list(row[1])
            count = conn.execute(
                "UPDATE topics SET subscribers = subscribers + %s - %s, updated_at = now() WHERE topic = %s"
                " RETURNING subscribers",
                (added, removed, topic),
            ).fetchone()
        assert count is not None
        return Membership(added=added, removed=removed, subscribers=int(count[0]), unknown_users=unknown)

    def subscribers_page(self, topic: str, limit: int, cursor: str | None) -> SubscriberPage | None:
        after = uuid.UUID(decode_cursor(cursor, {SUBSCRIBERS})[1]) if cursor else uuid.UUID(int=0)
        with self._connection() as conn:
            if topic == EVERYONE:
                rows = conn.execute(
                    "SELECT user_id, created_at FROM directory_users WHERE user_id > %s"
                    " ORDER BY user_id LIMIT %s",
                    (after, limit + 1),
                ).fetchall()
            elif _topic_exists(conn, topic):
                rows = conn.execute(
                    "SELECT user_id, subscribed_at FROM topic_subscribers WHERE topic = %s AND user_id > %s"
                    " ORDER BY user_id LIMIT %s",
                    (topic, after, limit + 1),
                ).fetchall()
            else:
                return None
        more, rows = len(rows) > limit, rows[:limit]
        return SubscriberPage(
            items=[SubscriberView(user_id=row[0], subscribed_at=row[1]) for row in rows],
            next_cursor=encode_cursor(SUBSCRIBERS, rows[-1][0]) if more else None,
        )


def _topic_exists(conn: psycopg.Connection[Any], topic: str) -> bool:
    return conn.execute("SELECT 1 FROM topics WHERE topic = %s", (topic,)).fetchone() is not None
