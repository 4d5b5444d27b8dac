"""Shared fixtures. Integration fixtures build their own database and queues and remove them."""

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore

ADMIN_DSN = os.environ.get("NOTIFY_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("NOTIFY_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _dsn_for(database: str) -> str:
    base, _, _ = ADMIN_DSN.rpartition("/")
    return f"{base}/{database}"


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A database of this test session's own, dropped at the end."""
    name = f"notify_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _dsn_for(name)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def store(pg_dsn: str) -> Iterator[PostgresStore]:
    """A store on the session database, emptied after each test."""
    store = PostgresStore(pg_dsn, max_connections=8)
    store.apply_schema()
    try:
        yield store
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(
                "TRUNCATE notifications, outbox, events, schedules, directory_users, directory_movies CASCADE"
            )
        store.close()


@pytest.fixture
def queue_prefix() -> Iterator[str]:
    """A queue-name prefix of this test's own; its RabbitMQ queues are deleted afterwards."""
    import pika

    from notify.adapters.rabbitmq import topology
    from notify.channels import all_queue_names

    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield prefix
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        for queue in all_queue_names(prefix):
            for name, _ in topology(queue):
                channel.queue_delete(name)
    finally:
        connection.close()
