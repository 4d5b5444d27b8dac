"""The least-privilege check (notify_dev.least_privilege) on the translated template with no stack:
the calls the service makes pass, and each permission taken out of the template is caught."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from notify_dev.least_privilege import Call, Roles, UnknownCall, Verdict, judge
from notify_dev.template_lint import configuration
from notify_dev.translated import named_deployment, translated_template

ACCOUNT = "123456789012"
QUEUE_URL = f"http://sqs.us-east-1.localhost:4566/{ACCOUNT}/"
LOCAL_APP = f"arn:aws:sns:us-east-1:{ACCOUNT}:app/GCM/notify-push"
PRODUCTION_APP = f"arn:aws:sns:us-east-1:{ACCOUNT}:app/GCM/cinema"


def sender_calls(channel: str) -> list[Call]:
    """What every sender does besides its provider calls: the backoff and the hand-back."""
    function = f"notify-send-{channel}"
    return [
        Call(function, "sqs", "GetQueueUrl", {"QueueName": f"notify-{channel}-normal"}),
        Call(function, "sqs", "ChangeMessageVisibility", {"QueueUrl": f"{QUEUE_URL}notify-{channel}-normal"}),
        Call(function, "sqs", "SendMessageBatch", {"QueueUrl": f"{QUEUE_URL}notify-{channel}-high"}),
    ]


def service_calls(application: str = LOCAL_APP) -> list[Call]:
    """The calls the recorder saw in a local run (notify.adapters.aws.AWS_CALLS), one of each kind."""
    return [
        Call("notify-ingest", "sqs", "GetQueueUrl", {"QueueName": "notify-email-high"}),
        Call("notify-ingest", "sqs", "SendMessageBatch", {"QueueUrl": f"{QUEUE_URL}notify-email-high"}),
        Call("notify-ingest", "sqs", "GetQueueAttributes", {"QueueUrl": f"{QUEUE_URL}notify-sms-low-dlq"}),
        Call("notify-tick", "sqs", "SendMessageBatch", {"QueueUrl": f"{QUEUE_URL}notify-push-low"}),
        Call("notify-tick", "sqs", "GetQueueAttributes", {"QueueUrl": f"{QUEUE_URL}notify-push-low"}),
        Call("notify-tick", "sns", "ListPhoneNumbersOptedOut"),
        Call(
            "notify-send-email",
            "ses",
            "SendRawEmail",
            {"SourceDomain": "cinema.example", "ConfigurationSetName": "notify-email"},
        ),
        Call("notify-send-sms", "sns", "Publish", {"PhoneNumber": "(a phone number)"}),
        Call("notify-send-push", "sns", "CreatePlatformEndpoint", {"PlatformApplicationArn": application}),
        Call(
            "notify-send-push",
            "sns",
            "Publish",
            {"TargetArn": application.replace(":app/", ":endpoint/") + "/fc398247-d8d4-40f6"},
        ),
        *sender_calls("email"),
        *sender_calls("sms"),
        *sender_calls("push"),
    ]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return translated_template()


def verdict(template: dict[str, Any], calls: list[Call], **parameters: str) -> Verdict:
    return judge(Roles(template, named_deployment(template, {"Environment": "local", **parameters})), calls)


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = template["Resources"][role]["Properties"]["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"] if "Action" in s]


def without(action: str, role: str) -> Callable[[dict[str, Any]], None]:
    def take_out(template: dict[str, Any]) -> None:
        for statement in statements(template, role):
            statement["Action"] = [a for a in statement["Action"] if a != action]

    return take_out


def test_the_template_allows_every_call_the_service_makes(template: dict[str, Any]) -> None:
    result = verdict(template, service_calls())

    assert result.refused == []
    assert result.needless_wildcards == []
    # Lambda's own calls are judged too: each trigger polled, each log group written.
    assert result.checked["FeedbackFunction"] == 5
    assert result.checked["MigrateFunction"] == 2


def without_publish_policy_send(template: dict[str, Any]) -> None:
    statement = template["Resources"]["PublishPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    statement["Action"] = [action for action in statement["Action"] if action != "sqs:SendMessage"]


@pytest.mark.parametrize(
    ("take_out", "refusal"),
    [
        (without_publish_policy_send, "IngestFunction: sqs:SendMessage on arn:aws:sqs:us-east-1:"),
        (without("sqs:SendMessage", "SendSmsRole"), "SendSmsFunction: sqs:SendMessage on"),
        (without("sqs:ReceiveMessage", "FeedbackRole"), "FeedbackFunction: sqs:ReceiveMessage on"),
        (without("logs:PutLogEvents", "TickRole"), "TickFunction: logs:PutLogEvents on"),
        (without("ses:SendRawEmail", "SendEmailRole"), "SendEmailFunction: ses:SendRawEmail on"),
        (
            without("sns:CreatePlatformEndpoint", "SendPushRole"),
            "SendPushFunction: sns:CreatePlatformEndpoint",
        ),
    ],
)
def test_a_permission_taken_out_of_the_template_is_refused(
    template: dict[str, Any], take_out: Callable[[dict[str, Any]], None], refusal: str
) -> None:
    broken = copy.deepcopy(template)
    take_out(broken)

    refused = verdict(broken, service_calls()).refused

    assert [line for line in refused if line.startswith(refusal)], refused


def test_a_grant_on_every_resource_where_one_can_be_named_is_reported(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    for statement in statements(broken, "SendPushRole"):
        if statement["Action"] == ["sns:Publish"]:
            statement["Resource"] = "*"

    assert verdict(broken, service_calls()).needless_wildcards == ["SendPushFunction: sns:Publish on *"]


def test_a_deployed_stack_may_not_make_platform_applications(template: dict[str, Any]) -> None:
    production = {"Environment": "production", "PushPlatformApplicationArn": PRODUCTION_APP}
    calls = [
        *service_calls(PRODUCTION_APP),
        Call("notify-send-push", "sns", "CreatePlatformApplication"),
        # An endpoint of another application than the stack's.
        Call(
            "notify-send-push",
            "sns",
            "Publish",
            {"TargetArn": LOCAL_APP.replace(":app/", ":endpoint/") + "/x"},
        ),
    ]

    refused = verdict(template, calls, **production).refused

    assert refused == [
        "SendPushFunction: sns:CreatePlatformApplication on * (sns.CreatePlatformApplication)",
        f"SendPushFunction: sns:Publish on {LOCAL_APP.replace(':app/', ':endpoint/')}/x (sns.Publish)",
    ]


def test_a_call_with_no_resource_rule_fails_closed(template: dict[str, Any]) -> None:
    with pytest.raises(UnknownCall, match="s3:PutObject"):
        verdict(template, [Call("notify-ingest", "s3", "PutObject", {"Bucket": "b"})])
    with pytest.raises(UnknownCall, match="not a function of this stack"):
        verdict(template, [Call("someone-else", "sqs", "ListQueues")])


def test_every_function_may_read_the_stack_s_secrets_and_no_other(template: dict[str, Any]) -> None:
    production = configuration("production")
    functions = ["notify-ingest", "notify-tick", "notify-migrate", "notify-send-email", "notify-feedback"]
    secrets = [production["DatabaseSecretArn"], production["UnsubscribeSecretArn"]]
    other = secrets[0].replace("notify/database", "payments/database")
    calls = [
        Call(f, "secretsmanager", "GetSecretValue", {"SecretId": arn}) for f in functions for arn in secrets
    ]

    assert verdict(template, calls, **production).refused == []
    assert verdict(
        template, [Call("notify-tick", "secretsmanager", "GetSecretValue", {"SecretId": other})], **production
    ).refused == [f"TickFunction: secretsmanager:GetSecretValue on {other} (secretsmanager.GetSecretValue)"]


def shared_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    statements = template["Resources"]["SharedFunctionPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    return [s["Fn::If"][1] for s in statements]


def test_in_a_vpc_lambda_may_make_each_function_s_network_interfaces(template: dict[str, Any]) -> None:
    production = configuration("production")
    calls = service_calls(production["PushPlatformApplicationArn"])

    result = verdict(template, calls, **production)
    broken = copy.deepcopy(template)
    [vpc] = [s for s in shared_statements(broken) if "ec2:CreateNetworkInterface" in s["Action"]]
    vpc["Action"].remove("ec2:CreateNetworkInterface")

    assert result.refused == []
    assert result.needless_wildcards == []
    assert (
        len([r for r in verdict(broken, calls, **production).refused if "ec2:CreateNetworkInterface" in r])
        == 7
    )
    # Outside a VPC no function needs them, and none is given them.
    assert verdict(template, calls, **(production | {"SubnetIds": "", "SecurityGroupIds": ""})).refused == []


def test_lambda_may_keep_a_failed_tick_in_its_queue(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    for statement in statements(broken, "TickRole"):
        if statement["Action"] == ["sqs:SendMessage"]:
            statement["Action"] = ["sqs:GetQueueUrl"]

    [refusal] = verdict(broken, service_calls()).refused

    assert refusal.startswith(
        "TickFunction: sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:notify-tick-failures"
    )


@pytest.mark.parametrize(
    ("statement", "finding"),
    [
        # moto takes NotResource for a grant on the named resource, and any Condition for met
        (
            {"Effect": "Allow", "Action": ["sqs:SendMessage"], "NotResource": "arn:aws:sqs:us-east-1:1:x"},
            "its role has NotResource, which this check cannot judge",
        ),
        (
            {
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": "*",
                "Condition": {"Bool": {"x": "y"}},
            },
            "its role has Condition, which this check cannot judge",
        ),
        (
            {"Effect": "Allow", "Action": ["sqs:*"], "Resource": "arn:aws:sqs:us-east-1:1:x"},
            "its role has 'sqs:*', which this check cannot judge",
        ),
        ({"Effect": "Deny", "Action": ["sqs:SendMessage"], "Resource": "*"}, "its role has Effect Deny"),
    ],
)
def test_a_statement_the_evaluator_would_misread_fails_the_check(
    template: dict[str, Any], statement: dict[str, Any], finding: str
) -> None:
    broken = copy.deepcopy(template)
    broken["Resources"]["SendSmsRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        statement
    )

    refused = verdict(broken, service_calls()).refused

    assert [line for line in refused if line.startswith(f"SendSmsFunction: {finding}")], refused


def test_a_wildcard_region_or_account_counts_as_every_resource(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    for statement in statements(broken, "SendEmailRole"):
        if statement["Action"] == ["ses:SendRawEmail"]:
            statement["Resource"] = "arn:aws:ses:*:*:identity/*"

    assert verdict(broken, service_calls()).needless_wildcards == ["SendEmailFunction: ses:SendRawEmail on *"]
