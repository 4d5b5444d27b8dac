"""The RabbitMQ path end to end: the ingest function's code with BROKER=rabbitmq publishes to RabbitMQ,
the worker (`python -m notify.entrypoints.worker`, a subprocess) delivers through SES and SNS on LocalStack.

It has a database and queue names of its own, so the deployed stack's SQS path is not involved."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.ingest.app import lambda_handler
from notify import bootstrap
from notify.adapters.postgres import PostgresStore
from notify.bootstrap import Services
from notify.models import DirectoryMovie, DirectoryUser
from notify.settings import Settings
from notify_dev.polling import wait_for
from notify_dev.scratch import scratch_database, scratch_queue_prefix
from notify_dev.stores import forget_deliveries, push_notification
from tests.e2e.conftest import counts_after_grace, event, unique_user, wait_email, wait_push, wait_sms
from tests.fakes import FakeLambdaContext
from tests.fakes.keys import add_sample_key
from tests.unit.builders import load_event

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rabbit_stack(endpoints) -> Iterator[dict[str, Any]]:
    """A scratch database with one user and one movie, a queue prefix of its own, the ingest code
    installed with broker rabbitmq, and the worker running against LocalStack."""
    with scratch_database("notify_e2e") as dsn, scratch_queue_prefix("e2e") as prefix:
        store = PostgresStore(dsn, 2)
        store.migrate()
        user = unique_user()
        movie = {"movie_id": "0b7f9a52-1c1e-4d7e-9d3a-5b2f2c1e0a01", "title": "Rabbit Run", "season": 1}
        store.upsert_users([DirectoryUser.model_validate(user)])
        store.upsert_movies([DirectoryMovie.model_validate(movie)])
        add_sample_key(store, datetime.now(UTC))  # the key of the sample request post() sends
        settings = Settings(database_url=dsn, broker="rabbitmq", queue_prefix=prefix)
        bootstrap.install(Services(settings))
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "NOTIFY_"))
        } | {
            "NOTIFY_DATABASE_URL": dsn,
            "NOTIFY_BROKER": "rabbitmq",
            "NOTIFY_RABBITMQ_URL": endpoints["rabbitmq_url"],
            "NOTIFY_QUEUE_PREFIX": prefix,
            "NOTIFY_EMAIL_SENDER": endpoints["email_sender"],
            "AWS_ENDPOINT_URL": endpoints["localstack_url"],
            "AWS_REGION": endpoints["region"],
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "PYTHONPATH": str(ROOT / "src"),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "notify.entrypoints.worker"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield {"user": user, "movie": movie, "worker": worker, "dsn": dsn}
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                output, _ = worker.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                output, _ = worker.communicate()
            print(output[-4000:])
            forget_deliveries([user], endpoints["localstack_url"])
            bootstrap.install(None)
            store.close()


def post(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = load_event("api_post_event")
    request["body"] = json.dumps(body)
    for headers in (request["headers"], request["multiValueHeaders"]):
        headers.pop("Idempotency-Key", None)
    response = lambda_handler(request, FakeLambdaContext())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])


def test_rabbitmq_broker_and_worker_deliver_through_localstack(rabbit_stack):
    user, movie = rabbit_stack["user"], rabbit_stack["movie"]

    status, accepted = post(event("new_episode", [user], movie, priority=8))

    assert status == 202, accepted
    assert accepted["notifications"] == 3
    [mail] = wait_email(user, timeout=60)
    assert "Rabbit Run" in mail["Subject"]
    [sms] = wait_sms(user)
    assert "Rabbit Run" in sms["Message"]
    [push] = wait_push(user)
    assert "Rabbit Run" in push_notification(push)["body"]
    events = bootstrap.services().events
    event_id = uuid.UUID(accepted["event_id"])

    def sent() -> list[str] | None:
        page = events.notifications_page(event_id, "sent", 10, None)
        channels = sorted(str(item.channel) for item in page.items) if page else []
        return channels if len(channels) == 3 else None

    assert wait_for(sent, timeout=30, what="three notifications sent") == ["email", "push", "sms"]
    counts = counts_after_grace([user], ["email", "sms", "push"], time.monotonic())
    assert [
        counts["email"][user["email"]],
        counts["sms"][user["phone"]],
        counts["push"][user["push_token"]],
    ] == [
        1,
        1,
        1,
    ]
    assert rabbit_stack["worker"].poll() is None  # the worker keeps running
