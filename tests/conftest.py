"""Shared fixtures. Integration fixtures build their own database and queues and remove them."""

from collections.abc import Iterator

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify_dev.scratch import scratch_database, scratch_queue_prefix


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A database of this test session's own, dropped at the end."""
    with scratch_database() as dsn:
        yield dsn


@pytest.fixture
def store(pg_dsn: str) -> Iterator[PostgresStore]:
    """A store on the session database, emptied after each test (the built-in workflows seeded again
    by the next test's migrate)."""
    store = PostgresStore(pg_dsn, max_connections=8)
    store.migrate()
    try:
        yield store
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(
                "TRUNCATE notifications, outbox, events, schedules, directory_users, directory_movies,"
                " user_preferences, frequency_reservations, api_keys, api_key_hits, push_endpoints, topics,"
                " topic_subscribers, workflows, workflow_versions, workflow_runs CASCADE"
            )
        store.close()


@pytest.fixture
def queue_prefix() -> Iterator[str]:
    """A queue-name prefix of this test's own; its RabbitMQ queues are deleted afterwards."""
    with scratch_queue_prefix() as prefix:
        yield prefix
