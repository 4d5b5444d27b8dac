"""API keys on the real database, and the command line that makes the first admin key."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.access.keys import admit, authenticate, issue_key, revoke
from notify.adapters.postgres import PostgresStore
from notify.bootstrap import Services, install
from notify.entrypoints import keys as keys_cli
from notify.errors import RateLimited, Unauthenticated
from notify.settings import Settings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_api_keys_round_trip_with_only_the_hash_stored(store: PostgresStore, pg_dsn: str) -> None:
    issued = issue_key("producer", ["events:write", "events:read"], 600, now=NOW, keys=store)

    found = authenticate(f"Bearer {issued.key}", keys=store, now=NOW)

    assert (found.name, found.scopes, found.rate_per_minute) == (
        "producer",
        frozenset({"events:write", "events:read"}),
        600,
    )
    with psycopg.connect(pg_dsn) as conn:
        stored = conn.execute("SELECT * FROM api_keys").fetchall()
    assert issued.key.rsplit("_", 1)[1] not in repr(stored)
    assert [record.key_id for record in store.list_keys()] == [issued.record.key_id]


def test_api_keys_last_use_is_written_at_most_once_a_minute(store: PostgresStore) -> None:
    issued = issue_key("producer", ["events:write"], None, now=NOW, keys=store)
    key_id = issued.record.key_id

    authenticate(f"Bearer {issued.key}", keys=store, now=NOW)
    authenticate(f"Bearer {issued.key}", keys=store, now=NOW + timedelta(seconds=59))
    first = store.find_key(key_id)
    authenticate(f"Bearer {issued.key}", keys=store, now=NOW + timedelta(seconds=61))
    later = store.find_key(key_id)

    assert first is not None
    assert first.last_used_at == NOW
    assert later is not None
    assert later.last_used_at == NOW + timedelta(seconds=61)


def test_api_keys_revoked_key_is_refused_by_another_store_instance(store: PostgresStore, pg_dsn: str) -> None:
    issued = issue_key("producer", ["events:write"], None, now=NOW, keys=store)
    other = PostgresStore(pg_dsn)  # another execution environment
    try:
        authenticate(f"Bearer {issued.key}", keys=other, now=NOW)
        revoke(issued.record.key_id, keys=store, now=NOW)
        with pytest.raises(Unauthenticated, match="revoked"):
            authenticate(f"Bearer {issued.key}", keys=other, now=NOW + timedelta(seconds=1))
    finally:
        other.close()


def test_keys_cli_creates_lists_and_revokes(
    store: PostgresStore, pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    services = Services(Settings(database_url=pg_dsn))
    install(services)
    try:
        assert keys_cli.main(["create", "--name", "first admin", "--scope", "admin"]) == 0
        created = json.loads(capsys.readouterr().out)
        assert authenticate(f"Bearer {created['key']}", keys=store, now=NOW).scopes == frozenset({"admin"})

        assert keys_cli.main(["list"]) == 0
        listing = capsys.readouterr().out
        assert created["id"] in listing
        assert "first admin" in listing
        assert created["key"] not in listing

        assert keys_cli.main(["revoke", created["id"]]) == 0
        assert keys_cli.main(["revoke", "0123456789ab"]) == 2
        with pytest.raises(Unauthenticated, match="revoked"):
            authenticate(f"Bearer {created['key']}", keys=store, now=datetime.now(UTC) + timedelta(seconds=1))
    finally:
        install(None)
        services.database.close()


def test_api_keys_rate_limit_holds_across_two_execution_environments(
    store: PostgresStore, pg_dsn: str
) -> None:
    record = issue_key("runaway producer", ["events:write"], 25, now=NOW, keys=store).record
    stores = [store, PostgresStore(pg_dsn, max_connections=8)]

    def attempt(n: int) -> bool:
        try:
            admit(record, limits=stores[n % 2], now=NOW + timedelta(milliseconds=n))
        except RateLimited:
            return False
        return True

    try:
        with ThreadPoolExecutor(8) as pool:
            answered = sum(pool.map(attempt, range(100)))
        later = NOW + timedelta(seconds=61)
        admit(record, limits=stores[1], now=later)  # the window moved on: answered again
    finally:
        stores[1].close()

    assert answered == 25
