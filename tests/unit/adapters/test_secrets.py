"""Secrets from Secrets Manager (notify.adapters.secrets), against moto: kept for their age, read
afresh when a connection failed, and a rotated key's previous value still verifying."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from notify.adapters.aws import aws_client
from notify.adapters.secrets import (
    DatabaseCredentials,
    RotatingKeys,
    SecretsManagerSecrets,
    SecretsUnavailable,
)
from notify.channels import EventType
from notify.delivery.unsubscribe_links import (
    InvalidToken,
    Unsubscribe,
    UnsubscribeLinks,
    verify_link,
    verify_token,
)
from tests.fakes.secrets import FakeSecrets

pytestmark = pytest.mark.usefixtures("aws")
REGION = "us-east-1"
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def make_secret(name: str, value: str) -> str:
    return str(
        boto3.client("secretsmanager", region_name=REGION).create_secret(Name=name, SecretString=value)["ARN"]
    )


def rotate(arn: str, value: str) -> None:
    boto3.client("secretsmanager", region_name=REGION).put_secret_value(SecretId=arn, SecretString=value)


def test_a_secret_is_kept_for_its_age_then_read_again() -> None:
    arn = make_secret("notify/unsubscribe", "first-key-of-sixteen")
    secrets = SecretsManagerSecrets(REGION, max_age_s=1)
    assert secrets.current(arn) == "first-key-of-sixteen"

    rotate(arn, "second-key-of-sixteen")

    assert secrets.current(arn) == "first-key-of-sixteen"  # within its age: no read
    time.sleep(1.1)
    assert secrets.current(arn) == "second-key-of-sixteen"


def test_a_link_signed_before_a_rotation_still_verifies_and_new_links_take_the_new_key() -> None:
    arn = make_secret("notify/unsubscribe", "first-key-of-sixteen")
    keys = RotatingKeys(SecretsManagerSecrets(REGION, max_age_s=1), arn)
    links = UnsubscribeLinks(
        "https://cinema.example/v1", keys, valid_for=timedelta(days=90), clock=lambda: NOW
    )
    user = Unsubscribe(user_id=uuid.uuid4(), event_type=EventType.NEW_EPISODE)
    before = links.link_for(user.user_id, user.event_type).split("token=")[1]
    assert keys.accepted_keys() == ["first-key-of-sixteen"]  # no previous version yet

    rotate(arn, "second-key-of-sixteen")
    time.sleep(1.1)
    after = links.link_for(user.user_id, user.event_type).split("token=")[1]

    assert verify_token(after, secret="second-key-of-sixteen", now=NOW) == user
    assert keys.accepted_keys() == ["second-key-of-sixteen", "first-key-of-sixteen"]
    assert verify_token(before, secret=keys.accepted_keys(), now=NOW) == user
    # A second rotation: the first key is neither current nor previous any more.
    rotate(arn, "third-key-of-sixteen-")
    time.sleep(1.1)
    with pytest.raises(InvalidToken):
        verify_token(before, secret=keys.accepted_keys(), now=NOW)


def test_a_secret_that_cannot_be_read_is_retryable() -> None:
    secrets = SecretsManagerSecrets(REGION, max_age_s=60)
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:notify/none-AbCdEf"

    with pytest.raises(SecretsUnavailable):
        secrets.current(missing)
    with pytest.raises(SecretsUnavailable):  # an unsubscribe link then answers 503, not 400
        RotatingKeys(secrets, missing).accepted_keys()


def test_database_credentials_are_read_afresh_after_a_connection_failed() -> None:
    arn = make_secret("notify/database", json.dumps({"username": "notify", "password": "old"}))
    credentials = DatabaseCredentials(SecretsManagerSecrets(REGION, max_age_s=300), arn, refresh_every_s=0)
    assert credentials() == {"user": "notify", "password": "old"}

    rotate(arn, json.dumps({"username": "notify", "password": "new"}))
    assert credentials()["password"] == "old"  # kept: nothing says it changed
    credentials.connection_failed()

    assert credentials()["password"] == "new"


def test_failing_connections_read_the_secret_afresh_at_most_once_per_interval() -> None:
    secrets = FakeSecrets(stored={"db": json.dumps({"username": "u", "password": "p"})})
    clock = [100.0]
    credentials = DatabaseCredentials(secrets, "db", refresh_every_s=5, clock=lambda: clock[0])
    credentials()

    for _ in range(10):  # an outage: every connection fails
        credentials.connection_failed()
        credentials()
    clock[0] += 5
    credentials.connection_failed()
    credentials()

    assert [fresh for _, fresh in secrets.reads] == [False, True, *[False] * 9, True]


def reads_of(stage: str) -> list[int]:
    """A counter of the shared client's GetSecretValue calls for `stage` (AWSCURRENT when none is named)."""
    counted: list[int] = []

    def count(params: dict[str, object], **_: object) -> None:
        if params.get("VersionStage", "AWSCURRENT") == stage:
            counted.append(1)

    aws_client("secretsmanager", REGION).meta.events.register("before-parameter-build", count)
    return counted


def test_no_previous_value_is_kept_as_long_as_a_value_would_be() -> None:
    arn = make_secret("notify/unsubscribe", "first-key-of-sixteen")
    clock = [0.0]
    keys = RotatingKeys(SecretsManagerSecrets(REGION, max_age_s=300, clock=lambda: clock[0]), arn)
    previous_reads = reads_of("AWSPREVIOUS")

    for _ in range(5):  # five unsubscribe requests before the first rotation
        assert keys.accepted_keys() == ["first-key-of-sixteen"]
    clock[0] += 300
    keys.accepted_keys()

    assert len(previous_reads) == 2  # once, then once more when the answer's age is up


def test_a_link_signed_with_a_key_newer_than_this_environment_s_copy_verifies_and_forgeries_read_little() -> (
    None
):
    arn = make_secret("notify/unsubscribe", "first-key-of-sixteen")
    clock = [0.0]
    api_keys = RotatingKeys(SecretsManagerSecrets(REGION, max_age_s=300), arn, clock=lambda: clock[0])
    api_keys.accepted_keys()  # the API's environment keeps the first key for 300 s
    rotate(arn, "second-key-of-sixteen")
    sender = RotatingKeys(SecretsManagerSecrets(REGION, max_age_s=300), arn)  # a new sender environment
    links = UnsubscribeLinks(
        "https://cinema.example/v1", sender, valid_for=timedelta(days=90), clock=lambda: NOW
    )
    user = Unsubscribe(user_id=uuid.uuid4(), event_type=EventType.NEW_EPISODE)
    fresh_link = links.link_for(user.user_id, user.event_type).split("token=")[1]
    current_reads = reads_of("AWSCURRENT")

    assert verify_link(fresh_link, keys=api_keys, now=NOW) == user
    forged = fresh_link[:-4] + "AAAA"
    for _ in range(10):
        with pytest.raises(InvalidToken):
            verify_link(forged, keys=api_keys, now=NOW)
    assert len(current_reads) == 1  # the fresh read above; the forgeries within 5 s read nothing more
    clock[0] += 5
    with pytest.raises(InvalidToken):
        verify_link(forged, keys=api_keys, now=NOW)
    assert len(current_reads) == 2
