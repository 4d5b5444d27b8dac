"""The carrier's SMS opt-outs on the real PostgreSQL: the sync is claimed once an hour across execution
environments (stores of their own, at the same time), and the numbers it suppresses get no SMS."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel
from notify.feedback.opt_outs import CLAIM_LEASE, SMS_OPT_OUTS, SmsOptOuts, sync_sms_opt_outs
from notify.tick import run_tick
from tests.fakes import FakeOptedOutNumbers
from tests.integration.conftest import Api
from tests.integration.support import make_user
from tests.integration.test_controls import Service
from tests.unit.builders import tick_policy

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(autouse=True)
def clean_syncs(store: PostgresStore) -> Iterator[None]:
    def truncate() -> None:
        with psycopg.connect(store.database.dsn, autocommit=True) as conn:
            conn.execute("TRUNCATE periodic_syncs, suppressions")

    truncate()
    yield
    truncate()


@pytest.fixture
def other_store(pg_dsn: str) -> Iterator[PostgresStore]:
    """Another execution environment: a store with a pool of its own on the same database."""
    other = PostgresStore(pg_dsn, max_connections=2)
    try:
        yield other
    finally:
        other.close()


def stored_sync(store: PostgresStore) -> tuple[datetime | None, datetime | None]:
    with psycopg.connect(store.database.dsn) as conn:
        row = conn.execute(
            "SELECT last_run_at, claimed_until FROM periodic_syncs WHERE name = %s", (SMS_OPT_OUTS,)
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_postgres_sync_claims_hold_once_an_hour_across_two_stores(
    store: PostgresStore, other_store: PostgresStore
) -> None:
    def claim(on: PostgresStore, now: datetime) -> bool:
        return on.claim_sync(SMS_OPT_OUTS, now, HOUR, CLAIM_LEASE)

    first = claim(store, NOW)
    while_held = claim(other_store, NOW + timedelta(seconds=1))
    store.finish_sync(SMS_OPT_OUTS, NOW, CLAIM_LEASE, done=True)
    within_the_hour = claim(other_store, NOW + timedelta(minutes=59))
    after_it = claim(other_store, NOW + HOUR)
    other_store.finish_sync(SMS_OPT_OUTS, NOW + HOUR, CLAIM_LEASE, done=False)  # it failed
    next_tick = claim(store, NOW + HOUR + timedelta(minutes=1))

    assert (first, while_held, within_the_hour, after_it, next_tick) == (True, False, False, True, True)
    assert stored_sync(store) == (NOW, NOW + HOUR + timedelta(minutes=1) + CLAIM_LEASE)


def test_postgres_sync_claims_a_stale_finish_does_not_end_a_later_claim(
    store: PostgresStore, other_store: PostgresStore
) -> None:
    assert store.claim_sync(SMS_OPT_OUTS, NOW, HOUR, CLAIM_LEASE)
    later = NOW + CLAIM_LEASE  # the first holder's lease ran out; another tick takes the sync
    assert other_store.claim_sync(SMS_OPT_OUTS, later, HOUR, CLAIM_LEASE)

    store.finish_sync(SMS_OPT_OUTS, NOW, CLAIM_LEASE, done=True)  # the first holder, late

    assert stored_sync(store) == (None, later + CLAIM_LEASE)
    assert not store.claim_sync(SMS_OPT_OUTS, later + timedelta(minutes=1), HOUR, CLAIM_LEASE)


def test_postgres_sync_claims_concurrent_ticks_claim_once(pg_dsn: str, store: PostgresStore) -> None:
    stores = [PostgresStore(pg_dsn, max_connections=1) for _ in range(8)]
    start = threading.Barrier(len(stores))
    claimed: list[bool] = []
    lock = threading.Lock()

    def tick(on: PostgresStore) -> None:
        start.wait()
        won = on.claim_sync(SMS_OPT_OUTS, NOW, HOUR, CLAIM_LEASE)
        with lock:
            claimed.append(won)

    threads = [threading.Thread(target=tick, args=(on,)) for on in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for on in stores:
            on.close()

    assert sorted(claimed) == [False] * 7 + [True]


def test_sms_opt_outs_synced_by_the_tick_are_suppressed_and_get_no_sms(
    store: PostgresStore, api: Api
) -> None:
    svc = Service(store, api)
    opted_out, stays = svc.users(make_user(), make_user())
    assert opted_out.phone is not None
    numbers = FakeOptedOutNumbers([f" {opted_out.phone}", "+15005550099"])
    sync = SmsOptOuts(numbers=numbers, suppressions=store, claims=store)

    def tick(now: datetime) -> int:
        return run_tick(
            now=now,
            schedules=store,
            outbox=store,
            publisher=svc.publisher,
            policy=tick_policy(),
            waiting=store,
            opt_outs=sync,
        ).sms_opted_out_added

    added = [tick(NOW), tick(NOW + timedelta(minutes=1))]
    again = sync_sms_opt_outs(sync, now=NOW + HOUR, every=HOUR)
    event_id = svc.post([opted_out, stays], now=NOW + HOUR)
    svc.deliver(NOW + HOUR)

    assert added == [2, 0]
    assert (again.synced, again.added) == (True, 0)
    assert numbers.calls == 2
    with psycopg.connect(store.database.dsn) as conn:
        rows = conn.execute(
            "SELECT channel, address, reason, created_at FROM suppressions ORDER BY 2"
        ).fetchall()
    assert rows == sorted(
        [("sms", opted_out.phone, "opted_out_sms", NOW), ("sms", "+15005550099", "opted_out_sms", NOW)],
        key=lambda r: r[1],
    )
    statuses = svc.statuses(event_id)
    assert statuses[(Channel.SMS, opted_out.user_id)] == ("skipped", "suppressed")
    assert statuses[(Channel.EMAIL, opted_out.user_id)] == ("sent", None)
    assert statuses[(Channel.SMS, stays.user_id)] == ("sent", None)
    assert opted_out.phone not in svc.sent_to()
    assert stays.phone in svc.sent_to()
