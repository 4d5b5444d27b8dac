"""Settings: outside Environment=local, what only the local stack may use is refused at start."""

import pytest
from pydantic import ValidationError

from notify.settings import DEVELOPMENT_UNSUBSCRIBE_SECRET, Settings

# A deployed stage's settings that start: each test below changes one of them.
DEPLOYED = {
    "NOTIFY_ENVIRONMENT": "production",
    "NOTIFY_DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:notify/db-AbCdEf",
    "NOTIFY_UNSUBSCRIBE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:notify/u-AbCdEf",
    "NOTIFY_DATABASE_URL": "postgresql://notify@db.internal.example:5432/notify",
    "NOTIFY_PUBLIC_BASE_URL": "https://notify.cinema.example/v1",
    "NOTIFY_PUSH_PLATFORM_APPLICATION_ARN": "arn:aws:sns:eu-west-1:123456789012:app/GCM/cinema",
    "NOTIFY_BROKER": "sqs",
    "NOTIFY_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",  # unused with SQS
}


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NOTIFY_AWS_CALL_LOG", raising=False)
    return monkeypatch


def test_a_deployed_stage_with_its_own_values_starts(deployed: pytest.MonkeyPatch) -> None:
    assert Settings().environment == "production"


@pytest.mark.parametrize("variable", ["NOTIFY_DATABASE_SECRET_ARN", "NOTIFY_UNSUBSCRIBE_SECRET_ARN"])
def test_settings_want_the_secrets_from_secrets_manager_outside_local(
    deployed: pytest.MonkeyPatch, variable: str
) -> None:
    # Without the unsubscribe key's ARN, the key would be the development secret.
    deployed.delenv(variable)

    with pytest.raises(ValidationError, match=f"{variable} is empty"):
        Settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NOTIFY_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/notify"),
        ("NOTIFY_DATABASE_URL", "postgresql://postgres@LOCALHOST/notify"),
        ("NOTIFY_PUBLIC_BASE_URL", "http://127.0.0.1:4566/restapis/notify/v1/_user_request_"),
        ("NOTIFY_PUBLIC_BASE_URL", "http://api.localhost/v1"),
        ("NOTIFY_PUBLIC_BASE_URL", "http://[::1]:3000/v1"),
        # spellings a reviewer found that a first version took for another machine
        ("NOTIFY_PUBLIC_BASE_URL", "http://localhost./v1"),
        ("NOTIFY_PUBLIC_BASE_URL", "http://[::ffff:127.0.0.1]/v1"),
        ("NOTIFY_PUBLIC_BASE_URL", "http://[0:0:0:0:0:0:0:1]/v1"),
        ("NOTIFY_PUBLIC_BASE_URL", "http://0/v1"),
        ("NOTIFY_PUBLIC_BASE_URL", "http://2130706433/v1"),
        ("NOTIFY_DATABASE_URL", "postgresql:///notify"),  # a Unix socket
        ("NOTIFY_DATABASE_URL", "host=localhost dbname=notify"),  # a key=value DSN
        ("NOTIFY_DATABASE_URL", "postgresql://db.example/notify?host=127.0.0.1"),  # libpq's host wins
        ("NOTIFY_DATABASE_URL", "postgresql://db.example/notify?hostaddr=127.0.0.1"),
    ],
)
def test_settings_refuse_a_url_on_this_machine_outside_local(
    deployed: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    deployed.setenv(variable, value)

    with pytest.raises(ValidationError, match=f"{variable} points at this machine"):
        Settings()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://notify:s3cr%2Fet@db.example.internal/notify",
        "postgresql://notify@db.example/n?password=s3cret",
    ],
)
def test_a_password_in_the_database_url_is_refused_outside_local_and_never_echoed(
    deployed: pytest.MonkeyPatch, url: str
) -> None:
    deployed.setenv("NOTIFY_DATABASE_URL", url)

    with pytest.raises(ValidationError, match="NOTIFY_DATABASE_URL carries a password") as refused:
        Settings()
    assert "s3cr" not in str(refused.value)


def test_an_empty_variable_is_an_unset_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sam local` writes "" for an Fn::If whose other branch is AWS::NoValue."""
    monkeypatch.setenv("NOTIFY_UNSUBSCRIBE_SECRET", "")
    monkeypatch.setenv("NOTIFY_RABBITMQ_URL", "")

    settings = Settings()

    assert settings.unsubscribe_secret == DEVELOPMENT_UNSUBSCRIBE_SECRET
    assert settings.rabbitmq_url == "amqp://guest:guest@127.0.0.1:5672/%2F"


def test_the_rabbitmq_secret_is_wanted_only_with_rabbitmq(deployed: pytest.MonkeyPatch) -> None:
    deployed.setenv("NOTIFY_BROKER", "rabbitmq")

    with pytest.raises(ValidationError, match="NOTIFY_RABBITMQ_SECRET_ARN is empty"):
        Settings()

    deployed.setenv("NOTIFY_RABBITMQ_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:r-AbCdEf")
    assert Settings().broker == "rabbitmq"


@pytest.mark.parametrize(
    ("variable", "value", "refusal"),
    [
        ("NOTIFY_PUSH_PLATFORM_APPLICATION_ARN", "", "NOTIFY_PUSH_PLATFORM_APPLICATION_ARN is empty"),
        ("NOTIFY_AWS_CALL_LOG", "/tmp/calls", "NOTIFY_AWS_CALL_LOG is for the local stack only"),
    ],
)
def test_settings_refuse_local_stand_ins_outside_local(
    deployed: pytest.MonkeyPatch, variable: str, value: str, refusal: str
) -> None:
    deployed.setenv(variable, value)

    with pytest.raises(ValidationError, match=refusal):
        Settings()


def test_the_local_stack_takes_the_local_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in DEPLOYED:
        monkeypatch.delenv(name, raising=False)

    settings = Settings()

    assert settings.unsubscribe_secret == DEVELOPMENT_UNSUBSCRIBE_SECRET
    assert settings.database_url == "postgresql://postgres@127.0.0.1:5432/notify"


def test_settings_refuse_an_environment_name_that_is_not_a_plain_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFY_ENVIRONMENT", "Prod Stage!")
    with pytest.raises(ValidationError, match="environment"):
        Settings()


def test_the_rds_proxy_s_endpoint_replaces_the_database_url_s_host_and_only_that() -> None:
    settings = Settings(
        database_url="postgresql://notify@notify-db.example.internal:5432/notify?sslmode=require",
        database_host="notify-db.proxy-abc.eu-west-1.rds.amazonaws.com",
    )

    assert settings.database_connection_url == (
        "postgresql://notify@notify-db.proxy-abc.eu-west-1.rds.amazonaws.com:5432/notify?sslmode=require"
    )
    assert Settings(database_url="postgresql://a@b/c").database_connection_url == "postgresql://a@b/c"
    # libpq's own host parameter would win over the proxy's endpoint: it is taken out
    routed = Settings(
        database_url="postgresql://a@b:6432/c?host=other&sslmode=require", database_host="proxy"
    )
    assert routed.database_connection_url == "postgresql://a@proxy:6432/c?sslmode=require"


def test_a_database_host_on_this_machine_is_refused_outside_local(deployed: pytest.MonkeyPatch) -> None:
    deployed.setenv("NOTIFY_DATABASE_HOST", "localhost")

    with pytest.raises(ValidationError, match="NOTIFY_DATABASE_URL points at this machine"):
        Settings()
