"""The RabbitMQ path end to end: the ingest function's code with BROKER=rabbitmq publishes to RabbitMQ,
the worker (`python -m notify.entrypoints.worker`, a subprocess) delivers through SES and SNS on LocalStack.

It has a database and queue names of its own, so the deployed stack's SQS path is not involved."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notify import bootstrap
from notify_dev.polling import wait_for
from notify_dev.stores import push_notification
from tests.e2e.conftest import counts_after_grace, event, unique_user, wait_email, wait_push, wait_sms
from tests.e2e.rabbit import MOVIE, WorkerProcess, post, rabbit_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def rabbit(endpoints: dict[str, Any], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """One user, the ingest code installed with broker rabbitmq, and the worker running against
    LocalStack."""
    user = unique_user()
    with rabbit_stack(endpoints, [user]) as stack:
        worker = WorkerProcess(stack.worker_environment, tmp_path / "worker.log")
        worker.start()
        try:
            yield {"user": user, "movie": MOVIE, "worker": worker}
        finally:
            worker.stop()
            print(worker.output())


def test_rabbitmq_broker_and_worker_deliver_through_localstack(rabbit: dict[str, Any]) -> None:
    user, movie = rabbit["user"], rabbit["movie"]

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
    assert rabbit["worker"].running()  # the worker keeps running
