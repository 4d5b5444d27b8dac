"""The stack's alarms on LocalStack: a message dead-lettered for real drives its DLQ's alarm into ALARM,
and the state is read back from CloudWatch. LocalStack publishes SQS's ApproximateNumberOfMessagesVisible
about once a minute, and alarms are evaluated on what it published (the other alarms' metrics are not
published here: tests/unit/test_alarms.py checks their definitions)."""

from __future__ import annotations

import json
import uuid

import pytest

from notify_dev.polling import wait_for

pytestmark = pytest.mark.e2e
QUEUE = "notify-push-low"
ALARM = f"{QUEUE}-dlq-not-empty"


def test_a_dead_lettered_message_drives_its_queue_s_alarm_into_alarm(aws, endpoints):
    sqs, cloudwatch = aws("sqs"), aws("cloudwatch")
    queue, dead_letters = endpoints["queues"][QUEUE], endpoints["queues"][f"{QUEUE}-dlq"]
    [defined] = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    assert (defined["MetricName"], defined["Dimensions"]) == (
        "ApproximateNumberOfMessagesVisible",
        [{"Name": "QueueName", "Value": f"{QUEUE}-dlq"}],
    )
    body = json.dumps({"schema_version": 1, "not": "a notification message", "marker": str(uuid.uuid4())})

    sqs.send_message(QueueUrl=queue, MessageBody=body)  # no sender can read it: dead-lettered
    try:

        def dead_lettered() -> bool:
            attributes = sqs.get_queue_attributes(
                QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            return int(attributes["ApproximateNumberOfMessages"]) > 0

        budget = endpoints["queue_visibility_timeout"] * (endpoints["max_receive_count"] + 2) + 30
        wait_for(dead_lettered, timeout=budget, interval=0.5, what="the message in the DLQ")

        def in_alarm() -> bool:
            [alarm] = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
            return bool(alarm["StateValue"] == "ALARM")

        wait_for(in_alarm, timeout=240, interval=5, what=f"{ALARM} in ALARM")
    finally:
        sqs.purge_queue(QueueUrl=dead_letters)

    [alarm] = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert [action.rsplit(":", 1)[-1] for action in alarm["AlarmActions"]] == ["notify-alarms"]
    history = cloudwatch.describe_alarm_history(AlarmName=ALARM, HistoryItemType="StateUpdate")
    assert any("to ALARM" in item["HistorySummary"] for item in history["AlarmHistoryItems"])
