"""SES event publishing after the send (localstack_host_executor/ses_events.py).

The hand-off itself is tested on its own (no LocalStack); on the running LocalStack, the hook is on
(its log line) and a configuration set's Send and Delivery events still reach the topic, for every send.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host_executor"))

from localstack_host_executor.deferred import Deferred

LOG = Path(__file__).resolve().parents[2] / ".local" / "localstack.log"


def test_the_caller_goes_on_while_the_call_waits_and_every_call_runs() -> None:
    gate = threading.Event()
    ran: list[int] = []

    def publish(*, n: int) -> None:
        gate.wait(10)
        ran.append(n)

    deferred = Deferred(publish, size=10, workers=2)
    for n in range(5):
        deferred(n=n)  # returns although every publish is blocked

    assert ran == []
    gate.set()
    deferred.join()
    assert sorted(ran) == [0, 1, 2, 3, 4]


def test_a_full_queue_runs_the_call_in_the_caller() -> None:
    gate, taken = threading.Event(), threading.Event()
    threads: list[str] = []

    def publish(*, n: int) -> None:
        if n == 0:
            taken.set()
            gate.wait(10)
        threads.append(threading.current_thread().name)

    deferred = Deferred(publish, size=1, workers=1)
    deferred(n=0)
    assert taken.wait(5)  # the only worker holds it
    deferred(n=1)  # waits in the queue, which holds one
    deferred(n=2)  # the queue is full: runs here, in the caller
    assert threads == [threading.current_thread().name]
    gate.set()
    deferred.join()
    assert len(threads) == 3


def test_a_failing_call_does_not_stop_the_worker() -> None:
    ran: list[int] = []

    def publish(*, n: int) -> None:
        if n == 0:
            raise RuntimeError("SNS is down")
        ran.append(n)

    deferred = Deferred(publish, size=10, workers=1)
    deferred(n=0)
    deferred(n=1)
    deferred.join()
    assert ran == [1]


def test_the_hook_is_on_and_every_send_still_publishes_its_events(aws: Any) -> None:
    """A configuration set with an SNS destination for Send and Delivery, the topic read through an SQS
    subscription: 20 sends give 20 Send and 20 Delivery events, each naming its message."""
    assert LOG.exists(), f"no LocalStack log at {LOG}"
    assert "SES event publishing runs after the send" in LOG.read_text(errors="replace")

    ses, sns, sqs = aws("ses"), aws("sns"), aws("sqs")
    tag = uuid.uuid4().hex[:8]
    sender = f"events-{tag}@example.test"
    ses.verify_email_identity(EmailAddress=sender)
    topic = sns.create_topic(Name=f"ses-events-{tag}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"ses-events-{tag}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    config_set = f"events-{tag}"
    ses.create_configuration_set(ConfigurationSet={"Name": config_set})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=config_set,
        EventDestination={
            "Name": f"to-sns-{tag}",  # LocalStack's SES wants names unique across configuration sets
            "Enabled": True,
            "MatchingEventTypes": ["send", "delivery"],
            "SNSDestination": {"TopicARN": topic},
        },
    )
    try:
        sent = {
            ses.send_raw_email(
                Source=sender,
                Destinations=[f"to-{n}-{tag}@example.test"],
                RawMessage={"Data": f"From: {sender}\nTo: x@example.test\nSubject: {n}\n\nbody {n}"},
                ConfigurationSetName=config_set,
            )["MessageId"]
            for n in range(20)
        }
        events: dict[str, set[str]] = {"Send": set(), "Delivery": set()}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(found != sent for found in events.values()):
            for message in sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                try:
                    body = json.loads(message["Body"])
                except ValueError:  # the destination's "Successfully validated SNS topic…" note
                    body = None
                if isinstance(body, dict) and body.get("eventType") in events:
                    events[body["eventType"]].add(body["mail"]["messageId"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        assert events == {"Send": sent, "Delivery": sent}
    finally:
        ses.delete_configuration_set_event_destination(
            ConfigurationSetName=config_set, EventDestinationName=f"to-sns-{tag}"
        )
        ses.delete_configuration_set(ConfigurationSetName=config_set)
        sqs.delete_queue(QueueUrl=queue_url)
        sns.delete_topic(TopicArn=topic)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
