"""The template's alarms, read from the translated template as a deployed stage resolves it: only the
DLQ alarms can be driven into ALARM on LocalStack (tests/e2e/test_alarms.py), so the definitions of
the others are checked here against what they watch."""

from typing import Any

import pytest

from notify.entrypoints.metrics import NAMESPACE, OUTBOX_PARKED
from notify.logs import SERVICE
from notify_dev.intrinsics import Resolver
from notify_dev.template_lint import configuration
from notify_dev.translated import named_deployment, translated_template


@pytest.fixture(scope="module")
def alarms() -> dict[str, dict[str, Any]]:
    template = translated_template()
    resolver = Resolver(template, named_deployment(template, configuration("production")))
    return {
        logical: resolver.resolve(resource["Properties"])
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }


def watched(alarm: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    return alarm["Namespace"], alarm["MetricName"], dimensions


def test_every_alarm_notifies_the_one_alarm_topic(alarms: dict[str, dict[str, Any]]) -> None:
    # 10 DLQs and the tick's failures, 3 high-tier queues, 6 functions x 2, the API, the outbox, SES x 2
    assert len(alarms) == 30
    assert {str(action) for alarm in alarms.values() for action in alarm["AlarmActions"]} == {
        "arn:aws:sns:us-east-1:123456789012:notify-alarms"
    }


def test_each_dead_letter_queue_has_an_alarm_that_fires_on_its_first_message(
    alarms: dict[str, dict[str, Any]],
) -> None:
    dead_letter_queues = [
        *(
            f"notify-{channel}-{tier}-dlq"
            for channel in ("email", "sms", "push")
            for tier in ("high", "normal", "low")
        ),
        "notify-feedback-dlq",
        "notify-tick-failures",
    ]
    on_queues = {
        dimensions["QueueName"]: alarm
        for alarm in alarms.values()
        for namespace, metric, dimensions in [watched(alarm)]
        if (namespace, metric) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    }

    assert sorted(on_queues) == sorted(dead_letter_queues)
    for alarm in on_queues.values():
        assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Period"]) == (
            "GreaterThanThreshold",
            0,
            60,
        )


def test_a_high_tier_message_waiting_too_long_is_an_alarm(alarms: dict[str, dict[str, Any]]) -> None:
    waiting = {
        dimensions["QueueName"]: alarm["Threshold"]
        for alarm in alarms.values()
        for namespace, metric, dimensions in [watched(alarm)]
        if metric == "ApproximateAgeOfOldestMessage"
    }

    assert waiting == {"notify-email-high": "300", "notify-sms-high": "300", "notify-push-high": "300"}


def test_every_function_run_by_an_event_has_error_and_throttle_alarms(
    alarms: dict[str, dict[str, Any]],
) -> None:
    by_metric: dict[str, set[str]] = {"Errors": set(), "Throttles": set()}
    for alarm in alarms.values():
        namespace, metric, dimensions = watched(alarm)
        if namespace == "AWS/Lambda":
            by_metric[metric].add(dimensions["FunctionName"])

    functions = {
        f"notify-{name}" for name in ("ingest", "tick", "send-email", "send-sms", "send-push", "feedback")
    }
    assert by_metric == {"Errors": functions, "Throttles": functions}


def test_the_api_s_5xx_and_the_parked_outbox_are_watched_where_they_are_published(
    alarms: dict[str, dict[str, Any]],
) -> None:
    metrics = {watched(alarm)[:2]: watched(alarm)[2] for alarm in alarms.values()}

    # API Gateway names a REST API's metrics by its name: the OpenAPI body's title, the stack's name.
    assert metrics[("AWS/ApiGateway", "5XXError")] == {"ApiName": "notify", "Stage": "v1"}
    # The tick's EMF document (notify.entrypoints.metrics): its namespace, name and only dimension.
    assert metrics[(NAMESPACE, OUTBOX_PARKED)] == {"service": SERVICE}


def test_ses_reputation_alarms_fire_where_aws_reviews_an_account(alarms: dict[str, dict[str, Any]]) -> None:
    thresholds = {
        watched(alarm)[1]: (alarm["Threshold"], alarm["ComparisonOperator"])
        for alarm in alarms.values()
        if alarm["Namespace"] == "AWS/SES"
    }

    assert thresholds == {
        "Reputation.BounceRate": (0.05, "GreaterThanOrEqualToThreshold"),
        "Reputation.ComplaintRate": (0.001, "GreaterThanOrEqualToThreshold"),
    }
