"""Typed configuration, read once from the environment.

Defaults work against the local stack: PostgreSQL and RabbitMQ on 127.0.0.1,
LocalStack's region and account.
"""

import ipaddress
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The unsubscribe secret of the local stack: a function outside Environment=local refuses to start with it.
DEVELOPMENT_UNSUBSCRIBE_SECRET = "local-development-secret-change-me"  # noqa: S105 - a known dev value


class Settings(BaseSettings):
    # An empty variable is an unset one: a template writes "" where a value does not apply (an Fn::If
    # whose other branch is AWS::NoValue comes out as "" through `sam local`). Errors never echo the
    # input: it holds the secrets of the local stack and URLs.
    model_config = SettingsConfigDict(
        env_prefix="NOTIFY_",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
        hide_input_in_errors=True,
    )

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/notify",
        validation_alias=AliasChoices("NOTIFY_DATABASE_URL", "DATABASE_URL"),
    )
    database_host: str = Field(
        default="",
        description="When set, the host connected to instead of the URL's (the RDS Proxy's endpoint).",
    )
    database_prepare: bool = Field(
        default=True,
        description="Whether statements may be prepared on the server; false through RDS Proxy (pinning).",
    )
    database_pool_max: int = Field(default=4, ge=1)
    statement_timeout_ms: int = Field(
        default=0,
        ge=0,
        description="Longest a statement may run (SET LOCAL in each transaction); 0: the server's setting."
        " The API function sets it, so that one slow query answers 503 instead of holding a request.",
    )
    health_cache_seconds: float = Field(
        default=5.0, ge=0, description="GET /health probes the database and the broker at most this often."
    )
    lock_timeout_ms: int = Field(
        default=0,
        ge=0,
        description="Longest a statement may wait for a lock (SET LOCAL); 0: the server's setting.",
    )
    broker: Literal["sqs", "rabbitmq"] = Field(
        default="sqs", validation_alias=AliasChoices("NOTIFY_BROKER", "BROKER")
    )
    rabbitmq_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/%2F",
        validation_alias=AliasChoices("NOTIFY_RABBITMQ_URL", "RABBITMQ_URL"),
    )
    queue_prefix: str = "notify"
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices("NOTIFY_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    sqs_queue_url_base: str | None = Field(
        default=None,
        description="Queue URL prefix (…/ACCOUNT/); when unset, queue URLs are looked up by name.",
    )
    email_sender: str = "notifications@cinema.example"
    email_configuration_set: str | None = Field(
        default=None,
        description="The SES configuration set named on every send (its events feed the feedback queue).",
    )
    push_platform_application_arn: str | None = None
    message_chunk_size: int = Field(default=250, ge=1, le=1000)
    max_message_bytes: int = Field(
        default=240_000,
        ge=16_384,
        description="Queue messages are written to fit this (SQS takes 262,144 bytes per message).",
    )
    max_receives: int = Field(default=5, ge=1)
    queue_visibility_timeout_seconds: int = Field(
        default=180, ge=0, description="The queues' visibility timeout (template: QueueVisibilityTimeout)."
    )
    lost_message_margin_seconds: int = Field(
        default=60,
        ge=0,
        description="Added to a queue's whole receive schedule: a row waiting longer has lost its message.",
    )
    soft_bounce_limit: int = Field(
        default=3, ge=1, description="Soft bounces in soft_bounce_window_days that suppress an address."
    )
    soft_bounce_window_days: int = Field(default=7, ge=1, le=365)
    send_concurrency: int = Field(
        default=32, ge=1, le=256, description="Provider calls in flight at once per execution environment."
    )
    messages_at_once: int = Field(
        default=2,
        ge=1,
        le=10,
        description=(
            "Queue messages of one batch delivered at the same time by a sender, sharing its "
            "send_concurrency: while one claims or records, the other's sends keep the provider busy."
        ),
    )
    low_tier_send_concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Provider calls in flight at once for low-tier messages (priority 0-2): they yield.",
    )
    provider_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How long a provider may take to answer a send before it is recorded as unconfirmed.",
    )
    provider_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    send_safety_margin_seconds: float = Field(
        default=8.0,
        ge=0,
        description="No new recipient is started with less time left than this; the rest is queued again.",
    )
    worker_message_budget_seconds: float = Field(
        default=30.0,
        gt=0,
        description="The RabbitMQ worker's time for one message (a Lambda's is its remaining time).",
    )
    outbox_grace_seconds: int = Field(default=30, ge=0)
    schedule_max_lateness_seconds: int = Field(
        default=3600, ge=0, description="An occurrence older than this when the tick sees it is skipped."
    )
    tick_batch_size: int = Field(default=1000, ge=1)
    fan_out_step: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description="An audience's members fanned out per step (one transaction each).",
    )
    fan_out_inline_seconds: float = Field(
        default=0.5,
        ge=0,
        le=20,
        description="How long POST /events steps an audience's fan-out itself; the tick does the rest.",
    )
    tick_margin_seconds: float = Field(
        default=10.0, ge=0, description="No fan-out step is begun with less of the tick's time left."
    )
    sms_opt_out_sync_seconds: int = Field(
        default=3600,
        ge=60,
        description="How often the tick adds the numbers opted out at the carrier (SNS) to the suppressions.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:4566/restapis/notify/v1/_user_request_",
        description="Where people reach the API (unsubscribe links); the local stack's by default.",
    )
    environment: str = Field(
        default="local",
        pattern=r"^[a-z][a-z0-9-]{0,31}$",
        description="Where this runs (template: Environment); outside `local` the dev secret is refused.",
    )
    unsubscribe_secret: str = Field(
        default=DEVELOPMENT_UNSUBSCRIBE_SECRET,
        min_length=16,
        description="HMAC key of unsubscribe links; set a real one in every deployed stage.",
    )
    database_secret_arn: str | None = Field(
        default=None, description="The database's credentials (an RDS secret: username, password)."
    )
    rabbitmq_secret_arn: str | None = Field(default=None, description="The RabbitMQ URL, as a secret.")
    unsubscribe_secret_arn: str | None = Field(
        default=None, description="The unsubscribe links' key; AWSPREVIOUS still verifies after a rotation."
    )
    secrets_cache_seconds: int = Field(
        default=300, ge=1, description="How long a secret read from Secrets Manager is kept."
    )
    outbox_retention_days: int = Field(
        default=7,
        ge=1,
        description="Published outbox messages (their bodies hold addresses) are deleted after this.",
    )
    records_retention_days: int = Field(
        default=90,
        ge=1,
        description="Finished notifications, their events and feedback are deleted after this.",
    )
    aws_call_log: str | None = Field(
        default=None,
        description="A directory where each function appends the AWS calls it makes (local stack only).",
    )
    function_name: str | None = Field(
        default=None, validation_alias=AliasChoices("NOTIFY_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_NAME")
    )
    unsubscribe_valid_days: int = Field(default=90, ge=1)
    digest_window_seconds: dict[str, int] = Field(
        default_factory=lambda: {"comment_liked": 600},
        description="Per event type: how long notifications for one recipient gather into a digest.",
    )
    frequency_caps: dict[str, dict[str, tuple[int, int]]] = Field(
        default_factory=lambda: {"new_releases_promo": {"email": (3, 86400)}},
        description="Per event type and channel: (at most N sends, per rolling window of S seconds).",
    )
    max_age_seconds: dict[str, int] = Field(
        default_factory=lambda: {
            "comment_liked": 6 * 3600,
            "new_episode": 48 * 3600,
            "watch_later_reminder": 24 * 3600,
            "new_releases_promo": 72 * 3600,
        },
        description="Per event type: a notification older than this is expired, not sent late.",
    )

    @property
    def database_connection_url(self) -> str:
        """database_url, with database_host in place of its host when one is given."""
        if not self.database_host:
            return self.database_url
        parts = urlsplit(self.database_url)
        user, _, where = parts.netloc.rpartition("@")
        _, colon, port = where.rpartition(":")
        port = f":{port}" if colon and port.isdigit() else ""
        # libpq's host parameters in the query would win over the proxy's endpoint: they go.
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in _HOST_PARAMETERS]
        netloc = f"{user + '@' if user else ''}{self.database_host}{port}"
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))

    @model_validator(mode="after")
    def _feedback_kept_for_its_window(self) -> "Settings":
        if self.records_retention_days < self.soft_bounce_window_days:
            raise ValueError(
                "NOTIFY_RECORDS_RETENTION_DAYS is shorter than NOTIFY_SOFT_BOUNCE_WINDOW_DAYS: the soft "
                "bounces that suppress an address would be deleted before they are counted"
            )
        return self

    @model_validator(mode="after")
    def _nothing_local_when_deployed(self) -> "Settings":
        """Outside `local`, refuse at start-up what only the local stack may use: the development
        secret, a URL on this machine, the stand-in push application, the AWS call log."""
        if self.environment == "local":
            return self
        where = f"and NOTIFY_ENVIRONMENT is {self.environment!r}"
        secrets = {
            "NOTIFY_DATABASE_SECRET_ARN": self.database_secret_arn,
            # Without it the key would be the development secret: anyone could forge unsubscribe links.
            "NOTIFY_UNSUBSCRIBE_SECRET_ARN": self.unsubscribe_secret_arn,
        }
        if self.broker == "rabbitmq":
            secrets["NOTIFY_RABBITMQ_SECRET_ARN"] = self.rabbitmq_secret_arn
        for name, arn in secrets.items():
            if not arn:
                raise ValueError(
                    f"{name} is empty {where}: deployed stages read their secrets from Secrets Manager"
                )
        # (RabbitMQ's URL is its secret's value outside local: it is not known here.)
        database = urlsplit(self.database_url)
        if database.password is not None or "password" in parse_qs(database.query):
            raise ValueError(
                f"NOTIFY_DATABASE_URL carries a password {where}: it comes from NOTIFY_DATABASE_SECRET_ARN"
            )
        urls = {
            "NOTIFY_DATABASE_URL": self.database_connection_url,
            "NOTIFY_PUBLIC_BASE_URL": self.public_base_url,
        }
        for name, url in urls.items():
            if _on_this_machine(url):
                raise ValueError(f"{name} points at this machine, or is no URL with a host, {where}")
        if not self.push_platform_application_arn:
            raise ValueError(
                f"NOTIFY_PUSH_PLATFORM_APPLICATION_ARN is empty {where}: push needs an application"
            )
        if self.aws_call_log:
            raise ValueError(f"NOTIFY_AWS_CALL_LOG is for the local stack only, {where}")
        return self


_HOST_PARAMETERS = ("host", "hostaddr")  # libpq's: in a URL's query they win over its netloc


def _on_this_machine(url: str) -> bool:
    """Whether the URL (or libpq URL) reaches this machine: a loopback or unspecified address in any
    spelling, localhost, a bare number, a Unix socket (no host); anything that is not a URL with a host
    is taken as this machine too (fail closed)."""
    try:
        parts = urlsplit(url)
        hosts = [parts.hostname or ""]
    except ValueError:
        return True
    if not parts.scheme or "://" not in url:
        return True  # a key=value DSN, or no URL at all
    query = parse_qs(parts.query)
    hosts += [host for key in _HOST_PARAMETERS for value in query.get(key, []) for host in value.split(",")]
    return any(_local_host(host.strip().rstrip(".").lower()) for host in hosts)


def _local_host(host: str) -> bool:
    if not host or host.startswith("/") or host.isdigit():
        return True  # a socket directory, or a number libpq would read as an address (0, 2130706433)
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return any(a.is_loopback or a.is_unspecified for a in (address, *([mapped] if mapped else [])))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
