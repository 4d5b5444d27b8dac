"""The Migrate function: applies the schema's missing migrations, once per deploy.

On AWS the database sits in the VPC, so the deploy cannot reach it: `sam deploy` is followed by one
invoke of this function (see the README). `make up` invokes it the same way on LocalStack."""

from dataclasses import dataclass

from notify.adapters.postgres.database import Database
from notify.adapters.postgres.migrations import shipped_migrations
from notify.adapters.secrets import DatabaseCredentials, SecretsManagerSecrets
from notify.settings import get_settings
from notify.workflows import builtin_definitions


@dataclass(frozen=True)
class MigrationReport:
    applied: list[str]  # what this run applied (none when the database was up to date)
    shipped: list[str]  # every migration this release carries, all applied now


def migrate_now() -> MigrationReport:
    settings = get_settings()
    secrets = SecretsManagerSecrets(settings.aws_region, settings.secrets_cache_seconds)
    arn = settings.database_secret_arn
    credentials = DatabaseCredentials(secrets, arn) if arn else None
    database = Database(
        settings.database_connection_url,
        max_connections=1,
        credentials=credentials,
        prepare=settings.database_prepare,
    )
    try:
        # The built-ins are seeded with the controls this deployment configures (then kept as data).
        built_ins = builtin_definitions(
            settings.max_age_seconds, settings.frequency_caps, settings.digest_window_seconds
        )
        applied = database.migrate(built_ins)
        database.check_schema()
    finally:
        database.close()
    return MigrationReport(applied=applied, shipped=list(shipped_migrations()))
