"""A message that keeps failing ends in its queue's dead-letter queue after MaxReceiveCount receives
(the local stack is deployed with a 5 s visibility timeout, so that takes seconds)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from notify_dev.polling import wait_for

pytestmark = pytest.mark.e2e


def test_a_malformed_message_lands_in_the_dead_letter_queue(aws, endpoints):
    sqs = aws("sqs")
    queue = endpoints["queues"]["notify-sms-low"]
    dead_letters = endpoints["queues"]["notify-sms-low-dlq"]
    marker = f"e2e-{uuid.uuid4()}"
    body = json.dumps({"schema_version": 1, "not": "a notification message", "marker": marker})

    sqs.send_message(QueueUrl=queue, MessageBody=body)

    def arrived() -> dict[str, Any] | None:
        got = sqs.receive_message(
            QueueUrl=dead_letters, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
        )
        for message in got.get("Messages", []):
            if marker in message["Body"]:
                sqs.delete_message(QueueUrl=dead_letters, ReceiptHandle=message["ReceiptHandle"])
                found: dict[str, Any] = message
                return found
        return None

    budget = endpoints["queue_visibility_timeout"] * (endpoints["max_receive_count"] + 2) + 30
    message = wait_for(arrived, timeout=budget, interval=0.2, what="the message in the DLQ")

    assert message["Body"] == body
    # the sender function saw it each time and reported it as a failed batch item
    logs = aws("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{endpoints['functions']['send_sms']}", filterPattern="malformed"
    )["events"]
    assert logs
