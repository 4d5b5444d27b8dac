"""The schema's versions: SQL migrations in `versions/`, applied by yoyo-migrations, checked by the functions.

Who applies them:
- `make up` (and the test and benchmark fixtures) through `apply_migrations`;
- on AWS, the `Migrate` function, invoked once per deploy (the database sits in the VPC).
The functions never do: a cold start only reads which migrations the database has
(`missing_migrations`, one query, no lock) and refuses to run on a schema older than its code.

A migration file is named `NNNN_what_it_does.sql`; its id is the name without `.sql`. yoyo runs each in
a transaction of its own and records it in `_yoyo_migration`. Once released, a migration is never
edited: a change is a new file.
"""

from importlib.resources import as_file, files
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from notify.errors import SchemaBehind

_VERSIONS = files("notify.adapters.postgres").joinpath("versions")

# yoyo's own table of what was applied (read only once it exists: a statement naming a missing table
# fails to parse, whatever its WHERE).
_APPLIED_SQL = "SELECT migration_id FROM _yoyo_migration"


def shipped_migrations() -> tuple[str, ...]:
    """The ids of the migrations this release carries, in the order they apply."""
    return tuple(
        sorted(item.name.removesuffix(".sql") for item in _VERSIONS.iterdir() if item.name.endswith(".sql"))
    )


def missing_migrations(conn: psycopg.Connection[Any]) -> list[str]:
    """The shipped migrations the database has not applied (all of them on an empty database)."""
    exists = conn.execute("SELECT to_regclass('_yoyo_migration') IS NOT NULL").fetchone()
    applied = {row[0] for row in conn.execute(_APPLIED_SQL)} if exists and exists[0] else set()
    return [migration for migration in shipped_migrations() if migration not in applied]


def check_schema(conn: psycopg.Connection[Any]) -> None:
    """Raise SchemaBehind, naming what is missing, when the database lacks a shipped migration."""
    missing = missing_migrations(conn)
    if missing:
        raise SchemaBehind(
            f"the database schema is behind this release: {len(missing)} migration(s) not applied"
            f" ({', '.join(missing)}); apply them with `make migrate` locally or the Migrate function on AWS"
        )


def apply_migrations(dsn: str) -> list[str]:
    """Apply the missing migrations under yoyo's lock (concurrent callers wait for each other);
    return the ids applied."""
    from yoyo import get_backend, read_migrations  # the functions that only check never load yoyo

    with as_file(_VERSIONS) as directory:
        migrations = read_migrations(str(directory))
        backend = get_backend(_yoyo_uri(dsn))
        try:
            with backend.lock():
                pending = backend.to_apply(migrations)
                backend.apply_migrations(pending)
                return [migration.id for migration in pending]
        finally:
            backend.connection.close()


def _yoyo_uri(dsn: str) -> str:
    """yoyo names the psycopg 3 driver in the URI's scheme."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("the database URL must be a postgresql:// URL")
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))
