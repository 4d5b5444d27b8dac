"""The platform every capability stands on: the settings, the secrets, the database (one pool), the
outbox, the broker and its dead letters. Services (bootstrap) adds each capability's ports on top."""

from notify import built_once
from notify.adapters.aws import AWS_CALLS
from notify.adapters.postgres import PostgresOutbox
from notify.adapters.postgres.database import Database, Repository
from notify.adapters.rabbitmq.dead_letters import RabbitDeadLetters
from notify.adapters.rabbitmq.publisher import RabbitPublisher
from notify.adapters.secrets import DatabaseCredentials, SecretsManagerSecrets
from notify.adapters.sqs import SqsPublisher
from notify.adapters.sqs_dead_letters import SqsDeadLetters
from notify.channels import QueueRouter
from notify.health import DeadLetters
from notify.outbox import Outbox, Publisher
from notify.settings import Settings


class storage_port[T](built_once[T]):  # noqa: N801 - a decorator, named like cached_property
    """A port the database serves: Services.use_store replaces every one, so the list is the ports'."""


def storage_ports(kind: type) -> list[str]:
    """The names of `kind`'s storage ports (its own and inherited)."""
    members = (item for klass in kind.__mro__ for item in vars(klass).items())
    return sorted({name for name, value in members if isinstance(value, storage_port)})


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        AWS_CALLS.record_to(settings.aws_call_log, settings.function_name)

    @built_once
    def secrets(self) -> SecretsManagerSecrets:
        return SecretsManagerSecrets(self.settings.aws_region, self.settings.secrets_cache_seconds)

    @property
    def rabbitmq_url(self) -> str:
        arn = self.settings.rabbitmq_secret_arn
        return self.secrets.current(arn) if arn else self.settings.rabbitmq_url

    @storage_port
    def database(self) -> Database:
        settings = self.settings
        database = Database(
            settings.database_connection_url,
            settings.database_pool_max,
            statement_timeout_ms=settings.statement_timeout_ms,
            lock_timeout_ms=settings.lock_timeout_ms,
            credentials=DatabaseCredentials(self.secrets, arn)
            if (arn := settings.database_secret_arn)
            else None,
            prepare=settings.database_prepare,
        )
        # Migrations are applied at deploy time, never here: a cold start only checks that they were.
        try:
            database.check_schema()
        except Exception:
            database.close()  # the next use builds it again: a failed check must not leave a pool open
            raise
        return database

    def _repository[R: Repository](self, kind: type[R]) -> R:
        return kind(self.database, max_message_bytes=self.settings.max_message_bytes)

    @storage_port
    def outbox(self) -> Outbox:
        return self._repository(PostgresOutbox)

    @built_once
    def publisher(self) -> Publisher:
        settings, queues = self.settings, self.router.all_names()
        if settings.broker == "rabbitmq":
            return RabbitPublisher(self.rabbitmq_url, queues)
        return SqsPublisher(settings.aws_region, settings.sqs_queue_url_base, probe_queue=queues[0])

    @built_once
    def router(self) -> QueueRouter:
        return QueueRouter(self.settings.queue_prefix)

    @built_once
    def dead_letters(self) -> DeadLetters:
        if self.settings.broker == "rabbitmq":
            return RabbitDeadLetters(self.rabbitmq_url, self.router.all_names())
        return SqsDeadLetters(self.settings.aws_region, self.router.all_names())
