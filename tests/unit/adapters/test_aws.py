"""The AWS adapters against moto's in-process AWS (the `aws` fixture): nothing leaves the process."""

import email
import email.message
import email.policy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from notify.adapters import push as push_module
from notify.adapters import sqs as sqs_module
from notify.adapters.aws import ProviderConnection, aws_client, classify_provider_error, provider_client
from notify.adapters.email import SesEmailSender
from notify.adapters.push import SnsPushSender
from notify.adapters.sms import SnsSmsSender
from notify.adapters.sqs import SqsPublisher, SqsRetryDelay
from notify.delivery.ports import Rendered
from notify.errors import (
    AddressGone,
    BrokerUnavailable,
    PermanentError,
    ProviderTimeout,
    RetryableError,
    Uncomposable,
)
from notify.outbox.ports import OutboundMessage, PublishOutcome, Refused
from tests.fakes import FakePushEndpoints

REGION = "us-east-1"
SOURCE = "notifications@cinema.example"
CONNECTION = ProviderConnection(REGION)

pytestmark = pytest.mark.usefixtures("aws")


def client_error(code: str, status: int, message: str = "boom") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "SendEmail")


# ---- SES ---------------------------------------------------------------------------------------


def sent_mails() -> list[email.message.EmailMessage]:
    return [
        email.message_from_string(
            sent.raw_data, _class=email.message.EmailMessage, policy=email.policy.default
        )
        for sent in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    ]


def test_ses_email_sender_sends_subject_html_and_destination() -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SOURCE)
    sender = SesEmailSender(SOURCE, CONNECTION)

    message_id = sender.send(
        "alice@example.com", Rendered(text="New episode", subject="Новая серия", html="<p>New</p>")
    )

    [sent] = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    [mail] = sent_mails()
    assert sent.id == message_id
    assert sent.source == SOURCE
    assert set(sent.destinations) == {"alice@example.com"}  # moto lists Destinations and To: both
    assert (mail["From"], mail["To"], mail["Subject"]) == (SOURCE, "alice@example.com", "Новая серия")
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content().strip() == "New episode"
    assert html.get_content().strip() == "<p>New</p>"
    assert mail["List-Unsubscribe"] is None


def sent_parameters(service: str, operation: str) -> list[dict[str, Any]]:
    """What the adapter's shared client puts in each `operation` call from now on (moto keeps not all)."""
    calls: list[dict[str, Any]] = []
    provider_client(service, CONNECTION).meta.events.register(
        f"provide-client-params.{service}.{operation}", lambda params, **_: calls.append(dict(params))
    )
    return calls


@pytest.mark.parametrize("configuration_set", ["notify-email", None])
def test_ses_email_sender_names_the_configuration_set_when_it_has_one(configuration_set: str | None) -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SOURCE)
    calls = sent_parameters("ses", "SendRawEmail")

    SesEmailSender(SOURCE, CONNECTION, configuration_set).send(
        "dan@example.com", Rendered(text="t", subject="s")
    )

    [call] = calls
    assert call.get("ConfigurationSetName", "none named") == (configuration_set or "none named")
    assert len(sent_mails()) == 1


def test_ses_email_sender_sends_text_only_when_there_is_no_html() -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SOURCE)

    SesEmailSender(SOURCE, CONNECTION).send("bob@example.com", Rendered(text="plain words", subject="Hi"))

    [mail] = sent_mails()
    assert mail["Subject"] == "Hi"
    assert not mail.is_multipart()
    assert mail.get_content().strip() == "plain words"


def test_ses_email_sender_carries_one_click_unsubscribe_headers() -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SOURCE)
    link = "https://notify.example/v1/unsubscribe?token=abc.def"

    SesEmailSender(SOURCE, CONNECTION).send(
        "carol@example.com", Rendered(text="t", subject="s", html="<p>h</p>", unsubscribe_url=link)
    )

    [mail] = sent_mails()
    assert mail["List-Unsubscribe"] == f"<{link}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["To"] == "carol@example.com"


def test_ses_email_sender_unverified_source_is_permanent_and_names_no_address() -> None:
    sender = SesEmailSender("unverified@cinema.example", CONNECTION)

    with pytest.raises(PermanentError) as caught:
        sender.send("alice@example.com", Rendered(text="x", subject="y"))

    assert str(caught.value) == "ses:SendRawEmail: MessageRejected (HTTP 400)"
    assert "alice@example.com" not in str(caught.value)
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []


@pytest.mark.parametrize(
    ("address", "subject", "header"),
    [
        ("bob@example.com", "Dune\r\nBcc: x@evil.example", "Subject"),
        ("bob@example.com", "Dune\nBcc: x@evil.example", "Subject"),
        ("bob@example.com\r\nBcc: x@evil.example", "Hi", "To"),
        # Beyond line breaks: any control character, and an address SES cannot take (issue 27's
        # composer; EmailMessage wrote NUL and ESC through and put encoded words in the address).
        ("bob@example.com", "Dune\x00", "Subject"),
        ("bob@example.com", "Dune\x1b[31m", "Subject"),
        ("bob@example.com", "Dune\u2028Bcc: x@evil.example", "Subject"),
        ("bob@example.com\x00", "Hi", "To"),
        ("bob@пример.рф", "Hi", "To"),
    ],
)
def test_ses_email_sender_line_break_in_a_header_is_uncomposable_before_ses_is_called(
    address: str, subject: str, header: str
) -> None:
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SOURCE)
    calls = sent_parameters("ses", "SendRawEmail")

    with pytest.raises(Uncomposable) as caught:
        SesEmailSender(SOURCE, CONNECTION).send(address, Rendered(text="t", subject=subject))

    assert isinstance(caught.value, PermanentError)
    assert caught.value.reason == "uncomposable"
    assert header in str(caught.value)
    assert "bob" not in str(caught.value)
    assert "evil" not in str(caught.value)
    assert calls == []
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []


# ---- SNS SMS -----------------------------------------------------------------------------------


def test_sns_sms_sender_publishes_to_the_phone_number() -> None:
    message_id = SnsSmsSender(CONNECTION).send("+79161234567", Rendered(text="Вышла новая серия"))

    assert sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages == {
        message_id: ("+79161234567", "Вышла новая серия")
    }


def test_sns_sms_sender_with_sender_id_sends_too() -> None:
    first = SnsSmsSender(CONNECTION, sender_id="CINEMA").send("+447700900123", Rendered(text="one"))
    second = SnsSmsSender(CONNECTION, sender_id="CINEMA").send("+447700900123", Rendered(text="two"))

    sms = sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages
    assert first != second
    assert [sms[first], sms[second]] == [("+447700900123", "one"), ("+447700900123", "two")]


# ---- SNS push ----------------------------------------------------------------------------------


@pytest.mark.parametrize("configured", [None, ""])
def test_sns_push_sender_creates_an_application_and_publishes_to_an_endpoint(configured: str | None) -> None:
    sender = SnsPushSender(CONNECTION, platform_application_arn=configured)

    message_id = sender.send("fcm-token-1", Rendered(text="Someone liked your comment", subject="Liked"))

    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    [application] = backend.applications.values()
    assert (application.name, application.platform) == ("notify-push", "GCM")
    [endpoint] = backend.platform_endpoints.values()
    assert endpoint.token == "fcm-token-1"
    assert endpoint.application is application
    payload = json.loads(endpoint.messages[message_id])
    assert payload["default"] == "Someone liked your comment"
    notification = {"title": "Liked", "body": "Someone liked your comment"}
    assert json.loads(payload["GCM"]) == {"notification": notification}
    assert json.loads(payload["APNS"]) == {"aps": {"alert": notification}}


def test_sns_push_sender_reuses_the_application_and_the_endpoint_of_a_token() -> None:
    sender = SnsPushSender(CONNECTION, platform_application_arn=None)

    first = sender.send("fcm-token-1", Rendered(text="one"))
    second = sender.send("fcm-token-1", Rendered(text="two"))
    sender.send("fcm-token-2", Rendered(text="three"))

    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    assert len(backend.applications) == 1
    assert sorted(e.token for e in backend.platform_endpoints.values()) == ["fcm-token-1", "fcm-token-2"]
    [endpoint] = [e for e in backend.platform_endpoints.values() if e.token == "fcm-token-1"]
    assert [json.loads(endpoint.messages[m])["default"] for m in (first, second)] == ["one", "two"]


def test_sns_push_sender_keeps_each_tokens_endpoint_across_execution_environments() -> None:
    kept = FakePushEndpoints()
    created = sent_parameters("sns", "CreatePlatformEndpoint")

    SnsPushSender(CONNECTION, None, kept).send("fcm-token-1", Rendered(text="one"))
    # another execution environment: nothing in memory, the same store
    second = SnsPushSender(CONNECTION, None, kept).send("fcm-token-1", Rendered(text="two"))

    assert [call["Token"] for call in created] == ["fcm-token-1"]
    [endpoint] = sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints.values()
    assert kept.push_endpoints == {"fcm-token-1": endpoint.arn}
    assert json.loads(endpoint.messages[second])["default"] == "two"


def test_sns_push_sender_remembers_at_most_its_cache_size_of_tokens_most_recent_first() -> None:
    class CountingEndpoints(FakePushEndpoints):
        def __init__(self) -> None:
            super().__init__()
            self.looked_up: list[str] = []

        def find_endpoint(self, token: str) -> str | None:
            self.looked_up.append(token)
            return super().find_endpoint(token)

    kept = CountingEndpoints()
    sender = SnsPushSender(CONNECTION, None, kept, cache_size=2)
    for token in ("t1", "t2", "t1", "t3"):  # t2 is now the least recently used
        sender.send(token, Rendered(text=token))
    kept.looked_up.clear()

    for token in ("t1", "t3", "t2"):
        sender.send(token, Rendered(text="again"))

    assert kept.looked_up == ["t2"]  # the only one no longer in memory: asked of the store
    assert sender.remembered_tokens() == 2


def test_sns_push_sender_disabled_endpoint_is_gone_not_refused() -> None:
    sender = SnsPushSender(CONNECTION, None, FakePushEndpoints())
    sender.send("fcm-token-1", Rendered(text="one"))
    [endpoint] = sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints.values()
    boto3.client("sns", region_name=REGION).set_endpoint_attributes(
        EndpointArn=endpoint.arn, Attributes={"Enabled": "false"}
    )

    with pytest.raises(AddressGone) as caught:
        sender.send("fcm-token-1", Rendered(text="two"))

    assert caught.value.reason == "endpoint_disabled"
    assert len(endpoint.messages) == 1


def test_sns_push_sender_makes_a_deleted_endpoint_again() -> None:
    kept = FakePushEndpoints()
    SnsPushSender(CONNECTION, None, kept).send("fcm-token-1", Rendered(text="one"))
    sns = boto3.client("sns", region_name=REGION)
    sns.delete_endpoint(EndpointArn=kept.push_endpoints["fcm-token-1"])

    message_id = SnsPushSender(CONNECTION, None, kept).send("fcm-token-1", Rendered(text="two"))

    [endpoint] = sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints.values()
    assert kept.push_endpoints == {"fcm-token-1": endpoint.arn}
    assert json.loads(endpoint.messages[message_id])["default"] == "two"


def test_sns_push_sender_uses_the_configured_application() -> None:
    arn = boto3.client("sns", region_name=REGION).create_platform_application(
        Name="prod-fcm", Platform="GCM", Attributes={"PlatformCredential": "key"}
    )["PlatformApplicationArn"]

    SnsPushSender(CONNECTION, platform_application_arn=arn).send("tok", Rendered(text="hi"))

    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    assert list(backend.applications) == [arn]
    [endpoint] = backend.platform_endpoints.values()
    assert endpoint.application.arn == arn


@pytest.fixture
def stubbed_sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("sns", region_name=REGION)
    monkeypatch.setattr(push_module, "provider_client", lambda service, connection: client)
    with Stubber(client) as stubber:
        yield stubber


def test_sns_push_sender_disabled_endpoint_is_permanent(stubbed_sns: Stubber) -> None:
    arn = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:app/GCM/notify-push"
    endpoint = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:endpoint/GCM/notify-push/1"
    stubbed_sns.add_response("create_platform_endpoint", {"EndpointArn": endpoint})
    stubbed_sns.add_client_error("publish", service_error_code="EndpointDisabled", http_status_code=400)

    with pytest.raises(AddressGone) as caught:
        SnsPushSender(CONNECTION, arn).send("secret-token", Rendered(text="hi"))
    assert caught.value.reason == "endpoint_disabled"
    assert "secret-token" not in str(caught.value)
    stubbed_sns.assert_no_pending_responses()


def test_sns_push_sender_throttled_publish_is_retryable(stubbed_sns: Stubber) -> None:
    arn = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:app/GCM/notify-push"
    endpoint = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:endpoint/GCM/notify-push/1"
    stubbed_sns.add_response("create_platform_endpoint", {"EndpointArn": endpoint})
    stubbed_sns.add_client_error("publish", service_error_code="Throttling", http_status_code=400)

    with pytest.raises(RetryableError, match="Throttling") as caught:
        SnsPushSender(CONNECTION, arn).send("secret-token", Rendered(text="hi"))
    assert "secret-token" not in str(caught.value)


# ---- error classification ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("Throttling", 400),
        ("ThrottlingException", 400),
        ("TooManyRequestsException", 429),
        ("ServiceUnavailable", 503),
        ("InternalFailure", 500),
        ("SomethingNew", 502),
    ],
)
def test_classify_provider_error_throttling_and_5xx_are_retryable(code: str, status: int) -> None:
    error = classify_provider_error(
        client_error(code, status, "rate exceeded for alice@example.com"), "ses:X"
    )
    assert type(error) is RetryableError
    assert str(error) == f"ses:X: {code} (HTTP {status})"
    assert "alice@example.com" not in str(error)


@pytest.mark.parametrize(
    ("code", "status"),
    [("MessageRejected", 400), ("InvalidParameterValue", 400), ("AccessDenied", 403), ("NotFound", 404)],
)
def test_classify_provider_error_rejections_and_4xx_are_permanent(code: str, status: int) -> None:
    error = classify_provider_error(
        client_error(code, status, "Address blacklisted: +79161234567 alice@example.com"), "sns:Publish"
    )
    assert type(error) is PermanentError
    assert str(error) == f"sns:Publish: {code} (HTTP {status})"
    assert "+79161234567" not in str(error)
    assert "alice@example.com" not in str(error)


def test_classify_provider_error_without_status_is_permanent() -> None:
    error = classify_provider_error(ClientError({"Error": {"Code": "MessageRejected"}}, "SendEmail"), "ses")
    assert type(error) is PermanentError
    assert "HTTP 400" in str(error)


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://email.us-east-1.amazonaws.com/?to=alice@example.com"),
        ConnectionResetError("peer alice@example.com"),
    ],
)
def test_classify_provider_error_transport_failures_are_retryable(error: Exception) -> None:
    classified = classify_provider_error(error, "ses:SendEmail")
    assert type(classified) is RetryableError
    assert str(classified) == f"ses:SendEmail: {type(error).__name__}"


# ---- SQS ---------------------------------------------------------------------------------------


def create_queue(name: str) -> str:
    url: str = boto3.client("sqs", region_name=REGION).create_queue(QueueName=name)["QueueUrl"]
    return url


def drain(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    received: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        received.extend(dict(message) for message in batch)
    return received


def outbound(queue: str, index: int, size: int = 0) -> OutboundMessage:
    import uuid

    body = json.dumps({"n": index, "pad": "x" * size})
    return OutboundMessage(uuid.uuid4(), queue, body.encode())


@pytest.fixture
def batch_sizes() -> list[int]:
    """How many entries each SendMessageBatch call carried."""
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["Entries"]))

    aws_client("sqs", REGION).meta.events.register("provide-client-params.sqs.SendMessageBatch", record)
    return sizes


def test_sqs_publisher_puts_every_message_on_its_queue_in_batches_of_ten(batch_sizes: list[int]) -> None:
    email_url = create_queue("notify-email-high")
    sms_url = create_queue("notify-sms-low")
    emails = [outbound("notify-email-high", i) for i in range(23)]
    sms = [outbound("notify-sms-low", i) for i in range(2)]

    SqsPublisher(REGION).publish(emails + sms)

    assert sorted(batch_sizes) == [2, 3, 10, 10]
    assert sorted(m["Body"] for m in drain(email_url)) == sorted(m.body.decode() for m in emails)
    assert sorted(m["Body"] for m in drain(sms_url)) == sorted(m.body.decode() for m in sms)


def test_sqs_publisher_splits_batches_by_size(batch_sizes: list[int]) -> None:
    url = create_queue("notify-push-normal")
    big = [outbound("notify-push-normal", i, size=100_000) for i in range(3)]

    SqsPublisher(REGION).publish(big)

    assert batch_sizes == [2, 1]
    assert len(drain(url)) == 3


def test_sqs_publisher_with_a_queue_url_base(batch_sizes: list[int]) -> None:
    url = create_queue("notify-email-normal")
    base = url.rsplit("/", 1)[0] + "/"

    SqsPublisher(REGION, queue_url_base=base).publish([outbound("notify-email-normal", 1)])

    [received] = drain(url)
    assert json.loads(received["Body"]) == {"n": 1, "pad": ""}
    assert batch_sizes == [1]


def test_sqs_publisher_missing_queue_is_an_outage_that_leaves_its_messages() -> None:
    url = create_queue("notify-email-high")
    publisher = SqsPublisher(REGION)
    first, second = outbound("notify-email-high", 1), outbound("notify-sms-high", 2)

    outcome = publisher.publish([first, second])

    # What went out is published; the message for the missing queue is neither published nor
    # refused: it stays in the outbox and the relay tries again (a queue can be mid-deploy).
    assert outcome == PublishOutcome(published=[first.message_id])
    assert [json.loads(m["Body"])["n"] for m in drain(url)] == [1]
    with pytest.raises(BrokerUnavailable, match="QueueDoesNotExist"):
        publisher.publish([second])


def test_sqs_publisher_refuses_a_message_over_the_sqs_limit_and_publishes_the_others(
    batch_sizes: list[int],
) -> None:
    url = create_queue("notify-push-high")
    before, oversized, after = (
        outbound("notify-push-high", 1),
        outbound("notify-push-high", 2, size=270_000),
        outbound("notify-push-high", 3),
    )

    outcome = SqsPublisher(REGION).publish([before, oversized, after])

    assert outcome.published == [before.message_id, after.message_id]
    assert outcome.refused == [Refused(oversized.message_id, "sqs: larger than 262144 bytes")]
    assert sorted(json.loads(m["Body"])["n"] for m in drain(url)) == [1, 3]
    assert batch_sizes == [2]  # never sent: it would hold up the batch it is in


def test_sqs_publisher_message_the_queue_refuses_is_reported_and_the_batch_goes_on() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="notify-email-low", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    messages = [outbound("notify-email-low", 1), outbound("notify-email-low", 2, size=2_000)]
    messages += [outbound("notify-email-low", n) for n in range(3, 6)]

    outcome = SqsPublisher(REGION).publish(messages)

    [refused] = outcome.refused
    assert refused.message_id == messages[1].message_id
    assert refused.error.startswith("sqs InvalidParameterValue: ")
    assert "1024 bytes" in refused.error
    assert sorted(outcome.published) == sorted(m.message_id for i, m in enumerate(messages) if i != 1)
    assert sorted(json.loads(m["Body"])["n"] for m in drain(url)) == [1, 3, 4, 5]


def test_sqs_publisher_entry_failures_refuse_sender_faults_and_leave_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = boto3.client("sqs", region_name=REGION)
    monkeypatch.setattr(sqs_module, "aws_client", lambda service, region: client)
    ok, bad, busy = (outbound("notify-sms-normal", n) for n in range(3))
    with Stubber(client) as stubber:
        stubber.add_response(
            "send_message_batch",
            {
                "Successful": [{"Id": "0", "MessageId": "m-0", "MD5OfMessageBody": "x"}],
                "Failed": [
                    {"Id": "1", "SenderFault": True, "Code": "InvalidMessageContents", "Message": "bad char"},
                    {"Id": "2", "SenderFault": False, "Code": "InternalError", "Message": "try later"},
                ],
            },
        )

        outcome = SqsPublisher(REGION, queue_url_base="https://sqs.example/000000000000/").publish(
            [ok, bad, busy]
        )

    assert outcome == PublishOutcome(
        published=[ok.message_id], refused=[Refused(bad.message_id, "sqs InvalidMessageContents: bad char")]
    )


def test_sqs_publisher_check_raises_broker_unavailable_when_sqs_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = boto3.client("sqs", region_name=REGION)
    monkeypatch.setattr(sqs_module, "aws_client", lambda service, region: client)
    with Stubber(client) as stubber:
        # One of its own queues, by name: what its role allows (sqs:ListQueues is on every queue or none).
        stubber.add_response("get_queue_url", {"QueueUrl": "u"}, {"QueueName": "notify-sms-low"})
        stubber.add_client_error(
            "get_queue_url", service_error_code="ServiceUnavailable", http_status_code=503
        )
        publisher = SqsPublisher(REGION, probe_queue="notify-sms-low")

        publisher.check()
        with pytest.raises(BrokerUnavailable, match="sqs: ClientError"):
            publisher.check()
        stubber.assert_no_pending_responses()


def test_sqs_retry_delay_defer_hides_the_message() -> None:
    url = create_queue("notify-email-high")
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    [first] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]

    SqsRetryDelay(REGION).defer(arn, first["ReceiptHandle"], 600)

    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def test_sqs_retry_delay_defer_zero_makes_it_visible_again() -> None:
    url = create_queue("notify-sms-normal")
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    [first] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []

    SqsRetryDelay(REGION).defer(arn, first["ReceiptHandle"], 0)

    [again] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert again["Body"] == "hello"


def test_sqs_retry_delay_defer_on_a_missing_queue_leaves_others_alone() -> None:
    url = create_queue("notify-push-high")
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    [first] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    missing = f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT_ID}:notify-gone-high"

    SqsRetryDelay(REGION).defer(
        missing, first["ReceiptHandle"], 600
    )  # swallowed: the queue's own timeout rules

    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["hello"]


def test_classify_provider_error_read_timeout_may_have_been_delivered() -> None:
    error = ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com/+79161234567")

    classified = classify_provider_error(error, "sns:Publish")

    assert type(classified) is ProviderTimeout
    assert str(classified) == "sns:Publish: ReadTimeoutError"


def test_classify_provider_error_read_timeout_of_an_idempotent_call_is_retryable() -> None:
    error = ReadTimeoutError(endpoint_url="https://sns.us-east-1.amazonaws.com/")

    classified = classify_provider_error(error, "sns:CreatePlatformEndpoint", idempotent=True)

    assert type(classified) is RetryableError


def test_provider_client_makes_one_attempt_per_call_and_a_connection_per_send() -> None:
    connection = ProviderConnection(REGION, read_timeout_s=2.5, connect_timeout_s=1.5, pool_size=24)

    config = provider_client("ses", connection).meta.config

    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (config.read_timeout, config.connect_timeout, config.max_pool_connections) == (2.5, 1.5, 24)
    assert provider_client("ses", connection) is provider_client("ses", connection)
    assert aws_client("ses", REGION) is not provider_client("ses", connection)
