"""The SQS dead-letter queues through moto: depths for GET /health, the redrive into the main queue."""

import boto3
import pytest

from notify.adapters.sqs_dead_letters import SqsDeadLetters
from notify.errors import BrokerUnavailable

REGION = "us-east-1"
QUEUES = ["notify-email-high", "notify-sms-high"]

pytestmark = pytest.mark.usefixtures("aws")


def make_queues() -> dict[str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    return {name: sqs.create_queue(QueueName=name)["QueueUrl"] for q in QUEUES for name in (q, f"{q}-dlq")}


def test_sqs_dead_letters_are_counted_then_redriven_into_their_queue() -> None:
    urls = make_queues()
    sqs = boto3.client("sqs", region_name=REGION)
    for n in range(13):
        sqs.send_message(QueueUrl=urls["notify-email-high-dlq"], MessageBody=f'{{"n": {n}}}')
    dead_letters = SqsDeadLetters(REGION, QUEUES)

    depths = dead_letters.depths()
    moved = dead_letters.redrive("notify-email-high")

    assert depths == {"notify-email-high-dlq": 13, "notify-sms-high-dlq": 0}
    assert moved == 13
    assert dead_letters.depths() == {"notify-email-high-dlq": 0, "notify-sms-high-dlq": 0}
    received = []
    while batch := sqs.receive_message(QueueUrl=urls["notify-email-high"], MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        received += [m["Body"] for m in batch]
    assert sorted(received) == sorted(f'{{"n": {n}}}' for n in range(13))


def test_sqs_dead_letters_refuse_an_unknown_queue_and_report_a_missing_one_as_an_outage() -> None:
    with pytest.raises(ValueError, match="no such queue"):
        SqsDeadLetters(REGION, QUEUES).redrive("elsewhere")
    with pytest.raises(BrokerUnavailable):
        SqsDeadLetters(REGION, QUEUES).depths()  # no queue was made


def test_sqs_backlog_counts_what_each_queue_still_holds_waiting_or_in_flight() -> None:
    urls = make_queues()
    sqs = boto3.client("sqs", region_name=REGION)
    for n in range(3):
        sqs.send_message(QueueUrl=urls["notify-sms-high"], MessageBody=str(n))
    sqs.receive_message(QueueUrl=urls["notify-sms-high"], MaxNumberOfMessages=1)  # one in flight
    sqs.send_message(QueueUrl=urls["notify-email-high-dlq"], MessageBody="dead")  # not a backlog

    assert SqsDeadLetters(REGION, QUEUES).backlog() == {"notify-email-high": 0, "notify-sms-high": 3}
