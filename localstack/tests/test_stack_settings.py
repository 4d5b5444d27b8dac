"""What localstack/stack.sh turns off in LocalStack, checked on the running LocalStack.

LocalStack's SQS publishes CloudWatch metrics for every send, receive and delete, as one more request
to its own CloudWatch and a write to its metrics database. On AWS that costs the caller nothing; here
it made an idle `SendMessage` take 31–38 ms (5.5 ms without), and every SQS trigger's
empty poll, every outbox publish and every SES event's SNS → SQS delivery paid it on the same two
cores. Nothing of the stack reads those metrics, so stack.sh sets `SQS_DISABLE_CLOUDWATCH_METRICS=1`
(issue 27).

LocalStack's server is twisted, its default, which keeps connections open, and not hypercorn, after
which LocalStack closes every connection: each SDK call opened a new one. Twisted binds every
interface unless told (the plugin's gateway hook), and a LocalStack that runs Lambda functions as host
processes must answer only this machine.
"""

from __future__ import annotations

import http.client
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


def listening_addresses(port: int) -> list[str]:
    """The local addresses of the sockets listening on `port` (IPv4 and IPv6), from /proc/net."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, _, hex_port = local.partition(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.append(address)
    return found


def test_localstack_listens_on_the_loopback_only() -> None:
    addresses = listening_addresses(4566)
    # 0100007F is 127.0.0.1 as /proc/net/tcp writes it (little-endian hex); 00000000 is every interface.
    assert addresses == ["0100007F"]


def test_localstack_keeps_a_connection_open_between_requests() -> None:
    connection = http.client.HTTPConnection("127.0.0.1", 4566, timeout=10)
    try:
        answers = []
        for _ in range(3):
            connection.request("GET", "/_localstack/health")
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Connection")))
            assert connection.sock is not None, "LocalStack closed the connection after one response"
        assert answers == [(200, None)] * 3
    finally:
        connection.close()


def test_a_request_with_a_64_kib_header_gets_an_answer_not_a_reset() -> None:
    # Twisted's own limit (16 KiB) answered with a 400 and closed the connection while the client
    # was still sending: the client saw a reset and no answer (the fuzz suite's oversized headers).
    connection = http.client.HTTPConnection("127.0.0.1", 4566, timeout=30)
    try:
        connection.request("GET", "/_localstack/health", headers={"X-Oversized": "A" * 65536})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    finally:
        connection.close()
