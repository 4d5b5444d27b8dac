"""The AWS call recorder (notify.adapters.aws.AWS_CALLS) on the shared clients, against moto."""

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from notify.adapters import aws as aws_module
from notify.adapters.aws import AWS_CALLS, ProviderConnection, aws_client, provider_client
from notify.adapters.email import SesEmailSender
from notify.adapters.sms import SnsSmsSender
from notify.delivery.ports import Rendered

pytestmark = pytest.mark.usefixtures("aws")
REGION = "us-east-1"


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[Path]:
    AWS_CALLS.record_to(str(tmp_path / "calls"), "notify-send-sms")
    yield tmp_path / "calls" / "notify-send-sms.jsonl"
    AWS_CALLS.record_to(None, None)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_distinct_call_is_recorded_once_with_the_resource_it_names(recorded: Path) -> None:
    url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="notify-sms-high")["QueueUrl"]
    sqs = aws_client("sqs", REGION)
    for _ in range(3):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.get_queue_url(QueueName="notify-sms-high")

    assert [(e["function"], e["operation"], e["resource"]) for e in lines(recorded)] == [
        ("notify-send-sms", "SendMessage", {"QueueUrl": url}),
        ("notify-send-sms", "GetQueueUrl", {"QueueName": "notify-sms-high"}),
    ]


def test_no_contact_is_written(recorded: Path) -> None:
    connection = ProviderConnection(REGION)
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress="news@cinema.example")
    SnsSmsSender(connection).send("+15550001111", Rendered(subject=None, text="hi"))
    SesEmailSender("news@cinema.example", connection).send(
        "viewer@example.org", Rendered(subject="s", text="t")
    )

    written = recorded.read_text()
    assert [(e["service"], e["operation"], e["resource"]) for e in lines(recorded)] == [
        ("sns", "Publish", {"PhoneNumber": "(a phone number)"}),
        ("ses", "SendRawEmail", {"SourceDomain": "cinema.example"}),
    ]
    for contact in ("5550001111", "viewer@", "news@"):
        assert contact not in written


def test_nothing_is_recorded_outside_a_function(tmp_path: Path) -> None:
    AWS_CALLS.record_to(str(tmp_path), None)  # a tool or a test: no AWS_LAMBDA_FUNCTION_NAME
    provider_client("sns", ProviderConnection(REGION)).list_topics()

    assert list(tmp_path.iterdir()) == []


def test_a_process_writes_its_calls_again_once_the_record_was_emptied(
    recorded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(AWS_CALLS, "clock", lambda: clock[0])
    sqs = aws_client("sqs", REGION)
    sqs.list_queues()
    recorded.unlink()  # make up, before a deploy

    sqs.list_queues()  # soon after: not looked for yet
    clock[0] += aws_module.REARM_EVERY_S
    sqs.list_queues()

    assert [e["operation"] for e in lines(recorded)] == ["ListQueues"]


def test_push_endpoints_are_recorded_as_one_without_their_device_ids(recorded: Path) -> None:
    sns = provider_client("sns", ProviderConnection(REGION))
    app = sns.create_platform_application(
        Name="notify-push", Platform="GCM", Attributes={"PlatformCredential": "key"}
    )["PlatformApplicationArn"]
    endpoints = [
        sns.create_platform_endpoint(PlatformApplicationArn=app, Token=f"t{n}")["EndpointArn"] for n in (1, 2)
    ]
    for endpoint in endpoints:
        sns.publish(TargetArn=endpoint, Message="hi")

    published = [e["resource"] for e in lines(recorded) if e["operation"] == "Publish"]
    assert published == [{"TargetArn": app.replace(":app/", ":endpoint/") + "/ENDPOINT-ID"}]
    assert not any(endpoint.rsplit("/", 1)[1] in recorded.read_text() for endpoint in endpoints)
