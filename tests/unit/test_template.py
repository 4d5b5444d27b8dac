"""template.yaml as CloudFormation receives it (translated, notify_dev.translated): its Rules refuse
each local value in a deployed stage, and what cannot run here is read from the template."""

from typing import Any

import pytest

from notify_dev.intrinsics import Resolver
from notify_dev.template_lint import configuration
from notify_dev.translated import named_deployment, translated_template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return translated_template()


def refused(template: dict[str, Any], values: dict[str, str]) -> list[str]:
    return Resolver(template, named_deployment(template, values)).refused_by_rules()


def test_the_configurations_of_samconfig_pass_the_rules(template: dict[str, Any]) -> None:
    assert refused(template, configuration("local")) == []
    assert refused(template, configuration("production")) == []


@pytest.mark.parametrize(
    ("parameter", "value", "refusal"),
    [
        ("DatabaseSecretArn", "", "credentials come from Secrets Manager"),
        ("UnsubscribeSecretArn", "", "links' key comes from Secrets Manager"),
        ("DatabaseUrl", "postgresql://postgres@127.0.0.1:5432/notify", "DatabaseUrl is the local stack's"),
        (
            "PublicBaseUrl",
            "http://127.0.0.1:4566/restapis/notify/v1/_user_request_",
            "PublicBaseUrl is the local stack's",
        ),
        ("PushPlatformApplicationArn", "", "push needs an SNS platform application"),
        ("UnsubscribeSecret", "local-development-secret-change-me", "is the development secret"),
    ],
)
def test_the_rules_refuse_each_local_value_in_a_deployed_stage(
    template: dict[str, Any], parameter: str, value: str, refusal: str
) -> None:
    values = configuration("production") | {parameter: value}

    refusals = refused(template, values)

    assert len(refusals) == 1, refusals
    assert refusal in refusals[0]
    # The same value is the local stack's own, and passes there.
    assert refused(template, values | {"Environment": "local"}) == []


def test_the_rules_want_rabbitmq_s_url_from_secrets_manager_only_with_rabbitmq(
    template: dict[str, Any],
) -> None:
    production = configuration("production")

    assert refused(template, production | {"Broker": "sqs"}) == []
    [refusal] = refused(template, production | {"Broker": "rabbitmq"})
    assert "RabbitmqSecretArn" in refusal


def resolved(template: dict[str, Any], values: dict[str, str], value: Any) -> Any:
    return Resolver(template, named_deployment(template, values)).resolve(value)


def test_outside_local_a_queue_hides_a_message_six_times_as_long_as_its_consumer_may_run(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    production = configuration("production") | {"QueueVisibilityTimeout": "1"}
    queues = {
        logical: resolved(template, production, r["Properties"]["VisibilityTimeout"])
        for logical, r in resources.items()
        if r["Type"] == "AWS::SQS::Queue" and "VisibilityTimeout" in r["Properties"]
    }
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    consumers = {
        resolved(template, production, m["EventSourceArn"]): m["FunctionName"]["Ref"] for m in mappings
    }
    names = named_deployment(template, production).physical_ids

    assert len(queues) == 10
    for logical, hidden_for in queues.items():
        queue_arn = f"arn:aws:sqs:us-east-1:123456789012:{names[logical].rsplit('/', 1)[-1]}"
        timeout = resources[consumers[queue_arn]]["Properties"]["Timeout"]
        assert int(hidden_for) == 6 * int(timeout), logical
    # Locally the parameter is taken as it is (5 s: dead-lettering in seconds).
    local = configuration("local")
    assert resolved(template, local, resources["EmailHighQueue"]["Properties"]["VisibilityTimeout"]) == "5"


def test_the_api_function_gives_up_before_api_gateway(template: dict[str, Any]) -> None:
    assert template["Resources"]["IngestFunction"]["Properties"]["Timeout"] < 29


def test_ses_may_publish_the_feedback_of_this_account_s_configuration_set_only(
    template: dict[str, Any],
) -> None:
    production = configuration("production")
    policy = template["Resources"]["EmailFeedbackTopicPolicy"]["Properties"]
    deployment = named_deployment(template, production)

    [statement] = resolved(template, production, policy["PolicyDocument"])["Statement"]

    topic = deployment.physical_ids["EmailFeedbackTopic"]
    assert resolved(template, production, policy["Topics"]) == [topic]
    assert (statement["Effect"], statement["Principal"], statement["Action"], statement["Resource"]) == (
        "Allow",
        {"Service": "ses.amazonaws.com"},
        "sns:Publish",
        topic,
    )
    assert statement["Condition"] == {
        "StringEquals": {
            "AWS:SourceAccount": "123456789012",
            "AWS:SourceArn": "arn:aws:ses:us-east-1:123456789012:configuration-set/notify-email",
        }
    }
    # the set the senders name (NOTIFY_EMAIL_CONFIGURATION_SET) is that one
    sender_environment = template["Resources"]["SendEmailFunction"]["Properties"]["Environment"]["Variables"]
    assert (
        resolved(template, production, sender_environment["NOTIFY_EMAIL_CONFIGURATION_SET"]) == "notify-email"
    )


def test_the_optional_ses_identity_sends_through_the_stack_s_configuration_set(
    template: dict[str, Any],
) -> None:
    identity = template["Resources"]["EmailIdentity"]
    production = configuration("production")

    assert identity["Condition"] == "HasEmailIdentity"
    assert resolved(template, production, identity["Properties"]) == {
        "EmailIdentity": "cinema.example",
        "ConfigurationSetAttributes": {"ConfigurationSetName": "notify-email"},
        "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
        "FeedbackAttributes": {"EmailForwardingEnabled": False},
    }
    local = Resolver(template, named_deployment(template, configuration("local")))
    assert local.condition("HasEmailIdentity") is False  # the local stack verifies the address instead
