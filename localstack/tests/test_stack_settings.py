"""What localstack/stack.sh turns off in LocalStack, checked on the running LocalStack.

LocalStack's SQS publishes CloudWatch metrics for every send, receive and delete, as one more request
to its own CloudWatch and a write to its metrics database. On AWS that costs the caller nothing; here
it made an idle `SendMessage` take 31–38 ms (5.5 ms without), and every SQS trigger's
empty poll, every outbox publish and every SES event's SNS → SQS delivery paid it on the same two
cores. Nothing of the stack reads those metrics, so stack.sh sets `SQS_DISABLE_CLOUDWATCH_METRICS=1`
(issue 27).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any


def test_sqs_publishes_no_cloudwatch_metrics(aws: Callable[[str], Any]) -> None:
    sqs, cloudwatch = aws("sqs"), aws("cloudwatch")
    name = f"metrics-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        for n in range(3):
            sqs.send_message(QueueUrl=queue_url, MessageBody=f"message {n}")
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(2)  # LocalStack publishes them from a thread pool, right after each call

        metrics = cloudwatch.list_metrics(
            Namespace="AWS/SQS", Dimensions=[{"Name": "QueueName", "Value": name}]
        )["Metrics"]
        assert [metric["MetricName"] for metric in metrics] == []
    finally:
        sqs.delete_queue(QueueUrl=queue_url)
