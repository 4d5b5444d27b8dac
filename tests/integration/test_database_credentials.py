"""A rotated database password (notify.adapters.secrets.DatabaseCredentials) on the real PostgreSQL.

The local server trusts every password, so the server's side of a rotation is played by a check in
front of psycopg's connect: only the current password gets through. Everything behind it is real: the
pool, its reconnection, the writer connections, the connections to PostgreSQL."""

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from notify.adapters.postgres import database as database_module
from notify.adapters.postgres.database import Database
from notify.adapters.postgres.migrations import apply_migrations
from notify.adapters.secrets import DatabaseCredentials
from notify.errors import StorageUnavailable
from notify_dev.scratch import scratch_database
from tests.fakes.secrets import FakeSecrets

pytestmark = pytest.mark.integration
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:notify/database-AbCdEf"


class Server:
    """Who may connect: the password the server holds now, and each attempt's password."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.attempts: list[str | None] = []


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Server:
    server = Server("old")
    real_connect = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]

    def connect(cls: type[psycopg.Connection[Any]], /, conninfo: str = "", **kwargs: Any) -> Any:
        server.attempts.append(kwargs.get("password"))
        if kwargs.pop("password", None) != server.password:
            raise psycopg.OperationalError('password authentication failed for user "postgres"')
        return real_connect(cls, conninfo, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "connect", classmethod(connect))
    return server


@pytest.fixture
def secrets() -> FakeSecrets:
    return FakeSecrets(stored={ARN: json.dumps({"username": "postgres", "password": "old"})})


@pytest.fixture
def database(pg_dsn: str, secrets: FakeSecrets) -> Iterator[Database]:
    database = Database(
        pg_dsn,
        max_connections=2,
        connect_timeout_s=10,
        credentials=DatabaseCredentials(secrets, ARN, refresh_every_s=0),
    )
    try:
        yield database
    finally:
        database.close()


def rotate(server: Server, secrets: FakeSecrets) -> None:
    secrets.stored[ARN] = json.dumps({"username": "postgres", "password": "new"})
    server.password = "new"


def test_the_pool_takes_the_new_password_when_a_connection_fails_to_authenticate(
    server: Server, secrets: FakeSecrets, database: Database
) -> None:
    with database.connection() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    rotate(server, secrets)
    database.close()  # the pool's connections end (a restart, a failover): new ones are made

    with database.connection() as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)

    assert server.attempts[0] == "old"
    assert "old" in server.attempts[1:]
    assert server.attempts[-1] == "new"
    assert secrets.reads.count((ARN, True)) >= 1


def test_a_writer_connection_takes_the_new_password_on_its_next_attempt(
    server: Server, secrets: FakeSecrets, database: Database
) -> None:
    with database.writer_connection():
        pass
    rotate(server, secrets)
    database.close()  # its connection ends: the next is made with the password it kept

    with pytest.raises(StorageUnavailable), database.writer_connection():
        pass
    with database.writer_connection() as conn:  # the caller's retry
        assert conn.execute("SELECT 1").fetchone() == (1,)

    assert server.attempts == ["old", "old", "new"]


def test_migrations_run_with_the_secret_s_credentials(
    monkeypatch: pytest.MonkeyPatch, secrets: FakeSecrets
) -> None:
    secrets.stored[ARN] = json.dumps({"username": "postgres", "password": "p@ss:w/rd"})
    urls: list[str] = []

    def apply(dsn: str) -> list[str]:
        urls.append(dsn)
        return apply_migrations(dsn)

    monkeypatch.setattr(database_module, "apply_migrations", apply)
    with scratch_database() as empty:  # a database no migration has reached yet
        database = Database(empty, max_connections=1, credentials=DatabaseCredentials(secrets, ARN))
        try:
            applied = database.migrate()  # yoyo connects with a URL of its own: the credentials go in it
        finally:
            database.close()

    [url] = urls
    assert applied
    assert urlsplit(url).username == "postgres"
    assert unquote(urlsplit(url).password or "") == "p@ss:w/rd"


def test_through_a_proxy_no_statement_is_prepared_on_the_server(pg_dsn: str) -> None:
    proxied, direct = Database(pg_dsn, max_connections=1, prepare=False), Database(pg_dsn, max_connections=1)
    try:
        with proxied.connection() as conn, proxied.writer_connection() as writer:
            assert (conn.prepare_threshold, writer.prepare_threshold) == (None, None)
        with direct.connection() as conn:
            assert conn.prepare_threshold == 5  # psycopg's default: prepared after five runs
    finally:
        proxied.close()
        direct.close()
