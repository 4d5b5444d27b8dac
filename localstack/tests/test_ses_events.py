"""SES event publishing after the send (localstack_host_executor.ses_events, issue 27).

The Deferred queue on its own (no LocalStack): calls run in order behind the caller, and once the
oldest waiting call is older than the bound, the caller runs its own. Then, on the running LocalStack:
its log says the hook is on, and a configuration set's Send and Delivery events still reach an SNS
topic's SQS subscriber, one of each per send.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ENDPOINT, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host_executor"))
from localstack_host_executor.deferred import Deferred

LOG = Path(__file__).resolve().parents[2] / ".local" / "localstack.log"
MAX_LAG_S = 600  # ses_events.py's default bound


def publishing() -> dict[str, Any]:
    """The hook's state, as LocalStack serves it (localstack_host_executor.ses_events)."""
    with urllib.request.urlopen(f"{ENDPOINT}/_aws/ses/event-publishing", timeout=5) as answer:
        state: dict[str, Any] = json.load(answer)
    return state


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_calls_run_later_in_order_on_the_worker() -> None:
    release, seen = threading.Event(), []
    deferred = Deferred(max_lag=60)
    deferred.submit(release.wait)
    for n in range(5):
        deferred.submit(lambda n=n: seen.append((n, threading.current_thread().name)))

    assert seen == []  # the caller returned before any of them ran
    release.set()
    assert deferred.join(timeout=5)
    assert [n for n, _ in seen] == [0, 1, 2, 3, 4]
    assert {name for _, name in seen} == {"deferred-0"}
    assert deferred.inline_calls == 0


def test_past_the_bound_the_caller_runs_its_own_call() -> None:
    clock, release, seen = Clock(), threading.Event(), []
    deferred = Deferred(max_lag=5, clock=clock)

    def takes_two_seconds() -> None:
        clock.now += 2

    deferred.submit(takes_two_seconds)
    assert deferred.join(timeout=5)
    assert deferred.state()["call_ms"] == 2000
    busy = threading.Event()
    deferred.submit(lambda: busy.set() or release.wait())
    assert busy.wait(timeout=5)  # the worker is busy
    deferred.submit(seen.append, "queued")
    clock.now += 5
    deferred.submit(seen.append, "queued too")  # the oldest has waited 5 s: at the bound
    clock.now += 1
    deferred.submit(seen.append, "inline")  # … 6 s: over it

    assert seen == ["inline"]
    state = deferred.state()
    assert (state["waiting"], state["running"], state["oldest_wait_s"]) == (2, 1, 6.0)
    assert state["inline_calls"] == 1
    release.set()
    assert deferred.join(timeout=5)
    assert seen == ["inline", "queued", "queued too"]
    assert deferred.state()["waiting"] == 0
    assert deferred.state()["deferred_calls"] == 4


def test_slow_calls_alone_do_not_send_the_callers_inline() -> None:
    """The bound is the lag seen, not one predicted from how slow calls were lately.

    Under a burst, a call's wall time grows with the threads beside it. A bound on the predicted wait
    sent the callers inline once the queue held a few of those slow calls, which made every call
    slower still: 20,000 sends ran at 31/s (issue 27). Here the calls took 2 s each, and ten are
    queued at one instant: none has waited, so none runs inline.
    """
    clock, release, seen = Clock(), threading.Event(), []
    deferred = Deferred(max_lag=5, clock=clock)
    deferred.call_seconds = 2.0  # as if calls had taken 2 s each
    busy = threading.Event()
    deferred.submit(lambda: busy.set() or release.wait())
    assert busy.wait(timeout=5)
    for n in range(10):
        deferred.submit(seen.append, n)

    assert seen == []
    assert deferred.inline_calls == 0
    assert deferred.state()["expected_wait_s"] == 22.0  # shown, over the bound, not acted on
    release.set()
    assert deferred.join(timeout=5)
    assert seen == list(range(10))


def test_workers_give_way_while_calls_keep_coming() -> None:
    seen: list[int] = []
    deferred = Deferred(max_lag=60, yield_after=0.3)
    for n in range(10):  # one call every 0.05 s for half a second
        deferred.submit(seen.append, n)
        time.sleep(0.05)
    assert seen == []  # nothing ran while they came
    assert deferred.join(timeout=5)
    assert seen == list(range(10))


def test_workers_stop_giving_way_at_half_the_bound() -> None:
    clock, seen = Clock(), []
    deferred = Deferred(max_lag=10, yield_after=3600, clock=clock)

    def takes_two_seconds(n: int) -> None:
        clock.now += 2
        seen.append(n)

    deferred.submit(takes_two_seconds, 0)  # nothing has waited: the worker gives way
    time.sleep(0.2)  # (it is waiting now, whatever the threads' start-up took)
    clock.now += 4
    deferred.submit(takes_two_seconds, 1)  # the oldest has waited 4 s
    time.sleep(0.2)
    assert seen == []
    clock.now += 2
    deferred.submit(takes_two_seconds, 2)  # 6 s: past half the bound, it is woken and a call runs
    assert not deferred.join(timeout=1)
    assert seen == [0]  # then the oldest has waited 4 s: under half the bound, it gives way again
    assert deferred.state()["waiting"] == 2


def test_a_call_that_raises_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []
    deferred = Deferred(max_lag=60)

    def fails() -> None:
        raise RuntimeError("topic gone")

    deferred.submit(fails)
    deferred.submit(seen.append, "next")
    assert deferred.join(timeout=5)
    assert seen == ["next"]
    assert "a deferred call failed" in caplog.text


def test_join_gives_up_at_its_timeout() -> None:
    release = threading.Event()
    deferred = Deferred(max_lag=60)
    deferred.submit(release.wait)
    assert not deferred.join(timeout=0.2)
    release.set()
    assert deferred.join(timeout=5)


def test_the_running_localstack_publishes_ses_events_after_the_send(aws: Callable[[str], Any]) -> None:
    """Send and Delivery still reach the configuration set's SNS destination: one of each per send."""
    this_start = LOG.read_text(errors="replace").rpartition("LocalStack version:")[2]
    assert "SES event publishing runs after the send" in this_start
    # What an earlier test's sends left to publish goes first (the suite runs this after its load).
    wait_for(lambda: (state := publishing())["waiting"] + state["running"] == 0, timeout=MAX_LAG_S + 60)
    before = publishing()
    ses, sns, sqs = aws("ses"), aws("sns"), aws("sqs")
    tag = uuid.uuid4().hex[:8]
    sender = f"events-{tag}@example.com"
    ses.verify_email_identity(EmailAddress=sender)
    topic_arn = sns.create_topic(Name=f"ses-events-{tag}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"ses-events-{tag}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    config_set = f"events-{tag}"
    ses.create_configuration_set(ConfigurationSet={"Name": config_set})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName=config_set,
        EventDestination={
            # LocalStack keeps event destination names unique per account, not per configuration set.
            "Name": f"sns-{tag}",
            "Enabled": True,
            "MatchingEventTypes": ["send", "delivery"],
            "SNSDestination": {"TopicARN": topic_arn},
        },
    )
    sends = 20
    message_ids = set()
    try:
        for n in range(sends):
            sent = ses.send_raw_email(
                Source=sender,
                Destinations=[f"to-{n}-{tag}@example.com"],
                RawMessage={
                    "Data": f"From: {sender}\nTo: to-{n}-{tag}@example.com\nSubject: {n}\n\nbody {n}"
                },
                ConfigurationSetName=config_set,
            )
            message_ids.add(sent["MessageId"])
        events: Counter[tuple[str, str]] = Counter()
        accounts: set[tuple[str, str]] = set()

        def all_arrived() -> bool:
            for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                if not message["Body"].startswith("{"):
                    continue  # "Successfully validated SNS topic …" when the destination was made
                event = json.loads(message["Body"])
                events[(event["eventType"], event["mail"]["messageId"])] += 1
                accounts.add((event["mail"]["sendingAccountId"], event["mail"]["sourceArn"]))
            return sum(events.values()) >= 2 * sends

        # Nothing else sends now: the worker publishes once the sends stop, and LocalStack's SNS → SQS
        # delivery is asynchronous too.
        wait_for(all_arrived, timeout=30, interval=0.5)
        time.sleep(2)
        all_arrived()  # a grace period: nothing arrives twice
        assert events == Counter({(kind, mid): 1 for kind in ("Send", "Delivery") for mid in message_ids})
        # The account the events name is the sender's, kept from its request (SendingAccount).
        account = aws("sts").get_caller_identity()["Account"]
        assert accounts == {(account, f"arn:aws:ses:{ses.meta.region_name}:{account}:identity/{sender}")}
        after = publishing()
        assert after["deferred_calls"] - before["deferred_calls"] == sends  # published by the worker
        assert after["inline_calls"] == before["inline_calls"]
    finally:
        ses.delete_configuration_set(ConfigurationSetName=config_set)
        sns.delete_topic(TopicArn=topic_arn)
        sqs.delete_queue(QueueUrl=queue_url)
