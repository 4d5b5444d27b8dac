"""The schema's versions on a database of each test's own: applied once by `migrate`, only checked
at a cold start (no lock taken behind a long query), and a database behind the release refused; a
request's statements bounded by the statement and lock timeouts (transaction-local)."""

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from notify.access.keys import issue_key
from notify.adapters.postgres import PostgresStore
from notify.adapters.postgres.database import Database
from notify.adapters.postgres.migrations import shipped_migrations
from notify.bootstrap import Services, install
from notify.errors import SchemaBehind, StorageUnavailable
from notify.settings import Settings
from notify_dev.scratch import scratch_database
from tests.fakes import FakePublisher
from tests.integration.support import ApiClient, run_at_once


@pytest.fixture
def fresh_dsn() -> Iterator[str]:
    with scratch_database("notify_migrations") as dsn:
        yield dsn


def applied(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY 1")]


def test_migrations_apply_once_however_many_start_at_once(fresh_dsn: str) -> None:
    stores = [PostgresStore(fresh_dsn) for _ in range(4)]

    results = run_at_once(4, lambda index: stores[index].migrate())

    assert sorted(migration for result in results for migration in result) == list(shipped_migrations())
    assert applied(fresh_dsn) == list(shipped_migrations())
    assert stores[0].migrate() == []
    for store in stores:
        store.close()


def test_a_cold_start_takes_no_lock_behind_a_long_query(pg_dsn: str, store: PostgresStore) -> None:
    # A long query (a fan-out step, a wide GET /stats) holds its tables for its whole run.
    long_query = psycopg.connect(pg_dsn)
    long_query.execute("SELECT count(*) FROM notifications, events, outbox")
    started: list[Services] = []

    def cold_start() -> None:
        services = Services(Settings(database_url=pg_dsn))
        services.database.check()
        started.append(services)

    thread = threading.Thread(target=cold_start, daemon=True)
    try:
        thread.start()
        thread.join(timeout=10)
        finished_behind_the_query = not thread.is_alive()
    finally:
        long_query.rollback()
        long_query.close()
        thread.join(timeout=30)
    for services in started:
        services.database.close()

    assert finished_behind_the_query, "the cold start waited for the long query's tables"


def test_a_database_behind_the_release_is_refused_until_migrated(fresh_dsn: str) -> None:
    store = PostgresStore(fresh_dsn)
    store.migrate()
    latest = shipped_migrations()[-1]
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = %s", (latest,))

    with pytest.raises(SchemaBehind, match=f"1 migration\\(s\\) not applied \\({latest}\\).*make migrate"):
        _ = Services(Settings(database_url=fresh_dsn)).database

    # An older release's database: what the migration creates exists, applying it again is harmless.
    assert store.migrate() == [latest]
    services = Services(Settings(database_url=fresh_dsn))
    services.database.check()
    services.database.close()
    store.close()


def test_an_empty_database_is_refused_naming_every_migration(fresh_dsn: str) -> None:
    with pytest.raises(SchemaBehind, match=f"{len(shipped_migrations())} migration"):
        _ = Services(Settings(database_url=fresh_dsn)).database


def test_a_request_behind_a_held_lock_answers_503_within_the_lock_timeout(
    pg_dsn: str, store: PostgresStore
) -> None:
    services = Services(Settings(database_url=pg_dsn, lock_timeout_ms=300, statement_timeout_ms=5000))
    services.publisher = FakePublisher()
    install(services)
    api = ApiClient()
    api.api_key = issue_key("tests", ["admin"], None, now=datetime.now(UTC), keys=store).key
    unknown = f"/events/{uuid.uuid4()}"
    holder = psycopg.connect(pg_dsn)
    holder.execute("LOCK TABLE events, notifications IN ACCESS EXCLUSIVE MODE")  # a migration, a VACUUM FULL
    try:
        started = time.monotonic()
        held = api.get(unknown)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
        install(None)

    assert (held.status, held.json["errors"][0]["loc"]) == (503, ["service"])
    assert waited < 3
    install(services)
    try:
        assert api.get(unknown).status == 404
    finally:
        install(None)
        services.database.close()


def test_a_statement_longer_than_the_statement_timeout_is_cancelled(pg_dsn: str) -> None:
    database = Database(pg_dsn, statement_timeout_ms=200)
    try:
        with pytest.raises(StorageUnavailable), database.connection() as conn:
            conn.execute("SELECT pg_sleep(2)")
        with database.connection() as conn:  # the limits are transaction-local: the session keeps none
            conn.commit()
            assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)
    finally:
        database.close()
