"""SnsOptedOutNumbers against moto's in-process SNS (the `aws` fixture), and a stubbed client for the
pages moto does not make."""

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from notify.adapters import sms as sms_module
from notify.adapters.sms import SnsOptedOutNumbers
from notify.errors import PermanentError, RetryableError

REGION = "us-east-1"

pytestmark = pytest.mark.usefixtures("aws")


def test_sns_opted_out_numbers_lists_what_the_carrier_opted_out() -> None:
    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    backend.opt_out_numbers = ["+15005550099", "+447700900149", "+79161234567"]
    boto3.client("sns", region_name=REGION).opt_in_phone_number(phoneNumber="+447700900149")

    numbers = SnsOptedOutNumbers(REGION).opted_out_numbers()

    assert numbers == ["+15005550099", "+79161234567"]


def test_sns_opted_out_numbers_with_none_opted_out_is_empty() -> None:
    sns_backends[DEFAULT_ACCOUNT_ID][REGION].opt_out_numbers = []

    assert SnsOptedOutNumbers(REGION).opted_out_numbers() == []


@pytest.fixture
def stubbed_sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("sns", region_name=REGION)
    monkeypatch.setattr(sms_module, "aws_client", lambda service, region: client)
    with Stubber(client) as stubber:
        yield stubber


def test_sns_opted_out_numbers_follows_next_token_through_every_page(stubbed_sns: Stubber) -> None:
    stubbed_sns.add_response(
        "list_phone_numbers_opted_out",
        {"phoneNumbers": ["+15005550001", "+15005550002"], "nextToken": "p2"},
        {},
    )
    stubbed_sns.add_response(
        "list_phone_numbers_opted_out",
        {"phoneNumbers": ["+15005550003"], "nextToken": "p3"},
        {"nextToken": "p2"},
    )
    stubbed_sns.add_response("list_phone_numbers_opted_out", {"phoneNumbers": []}, {"nextToken": "p3"})

    numbers = SnsOptedOutNumbers(REGION).opted_out_numbers()

    assert numbers == ["+15005550001", "+15005550002", "+15005550003"]
    stubbed_sns.assert_no_pending_responses()


def test_sns_opted_out_numbers_throttled_on_a_later_page_is_retryable(stubbed_sns: Stubber) -> None:
    stubbed_sns.add_response(
        "list_phone_numbers_opted_out", {"phoneNumbers": ["+15005550001"], "nextToken": "p2"}, {}
    )
    stubbed_sns.add_client_error(
        "list_phone_numbers_opted_out", service_error_code="Throttling", http_status_code=400
    )

    with pytest.raises(RetryableError, match=r"^sns:ListPhoneNumbersOptedOut: Throttling \(HTTP 400\)$"):
        SnsOptedOutNumbers(REGION).opted_out_numbers()


def test_sns_opted_out_numbers_without_the_permission_is_permanent(stubbed_sns: Stubber) -> None:
    stubbed_sns.add_client_error(
        "list_phone_numbers_opted_out", service_error_code="AuthorizationError", http_status_code=403
    )

    with pytest.raises(PermanentError, match=r"AuthorizationError \(HTTP 403\)$"):
        SnsOptedOutNumbers(REGION).opted_out_numbers()
