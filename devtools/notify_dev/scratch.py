"""Scratch resources of a run's own: a PostgreSQL database and a RabbitMQ queue prefix, and what is
waiting in that prefix's queues.

Used by the test fixtures and by the benchmarks; both remove what they made.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pika
import psycopg

from notify.adapters.rabbitmq.topology import topology
from notify.channels import all_queue_names

ADMIN_DSN = os.environ.get("NOTIFY_TEST_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("NOTIFY_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@contextmanager
def scratch_database(prefix: str = "notify_test") -> Iterator[str]:
    """A new database; yields its DSN and drops it at the end."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base, _, _ = ADMIN_DSN.rpartition("/")
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_queue_prefix(prefix: str = "t") -> Iterator[str]:
    """A queue-name prefix of its own; every queue of its topology is deleted at the end."""
    queue_prefix = f"{prefix}{uuid.uuid4().hex[:10]}"
    try:
        yield queue_prefix
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        try:
            channel = connection.channel()
            for queue in all_queue_names(queue_prefix):
                for name, _ in topology(queue):
                    channel.queue_delete(name)
                channel.queue_delete(queue + "-retry")  # the single retry queue of older releases
        finally:
            connection.close()


@contextmanager
def amqp_channel() -> Iterator[Any]:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        yield connection.channel()
    finally:
        if connection.is_open:  # the broker may have closed it (a test that provoked it)
            connection.close()


def queued_messages(prefix: str) -> int:
    """Messages waiting in the main queues (the ones the publisher declares)."""
    with amqp_channel() as channel:
        return sum(
            channel.queue_declare(queue, passive=True).method.message_count
            for queue in all_queue_names(prefix)
        )


def purge(prefix: str) -> None:
    """Empty the main queues so that the broker does not fill up between runs."""
    with amqp_channel() as channel:
        for queue in all_queue_names(prefix):
            channel.queue_purge(queue)
