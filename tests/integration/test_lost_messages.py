"""Rows whose message is gone (dead-lettered while the database was down, or lost): the tick takes back
any row left `queued` or `retrying` longer than the queue's whole receive schedule, queues it again
within the attempt budget and fails it past it. `queued_at` is kept by a trigger (migration 0002),
so these tests run on the database's clock."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel, QueueRouter
from notify.delivery.models import NotificationMessage
from notify.tick import LostMessages, release_waiting
from tests.fakes import FakePublisher
from tests.integration.support import claim_as, ledger_row, make_user, record_as, stored_event

pytestmark = pytest.mark.integration

EMAIL = Channel.EMAIL
ROUTER = QueueRouter("notify")
QUEUES = ROUTER.table()


def queued_at(dsn: str, event_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT user_id, queued_at FROM notifications WHERE event_id = %s AND channel = 'email'",
            (event_id,),
        ).fetchall()
    return dict(rows)


def test_rows_waiting_longer_than_the_receive_schedule_are_queued_again_once(
    store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user(phone=False, push=False) for _ in range(3)]
    stored = stored_event(store, users, channels=[EMAIL])  # its message published, then lost
    schedule_passed = max(queued_at(pg_dsn, stored.event_id).values()) + timedelta(microseconds=1)
    later = schedule_passed + timedelta(minutes=5)

    lost = store.requeue_lost(
        later, queued_before=schedule_passed, attempt_budget=3, limit=100,
        queue_by_channel_priority=QUEUES, chunk_size=250,
    )  # fmt: skip
    again = store.requeue_lost(
        later, queued_before=schedule_passed, attempt_budget=3, limit=100,
        queue_by_channel_priority=QUEUES, chunk_size=250,
    )  # fmt: skip

    assert (lost.notifications, lost.failed, again.notifications, again.failed) == (3, 0, 0, 0)
    carried = [NotificationMessage.model_validate_json(message.body) for message in lost.outbox]
    assert sorted(u.user_id for m in carried for u in m.payload.user) == sorted(u.user_id for u in users)
    assert {m.event_id for m in carried} == {stored.event_id}
    assert set(queued_at(pg_dsn, stored.event_id).values()) == {later}
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, users[0].user_id)
    assert (row["status"], row["error"]) == ("queued", "its message was lost; queued again")


def test_a_row_retried_since_keeps_waiting_and_one_past_its_attempts_fails(
    store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user(phone=False, push=False) for _ in range(3)]
    stored = stored_event(store, users, channels=[EMAIL])
    untouched, spent, retried = (u.user_id for u in users)
    now = datetime.now(UTC)
    for attempt in range(2):
        token, _ = claim_as(store, stored.event_id, EMAIL, [spent], now + timedelta(seconds=attempt))
        record_as(store, stored.event_id, EMAIL, token, [spent], "retrying", now)
    schedule_passed = max(queued_at(pg_dsn, stored.event_id).values()) + timedelta(microseconds=1)
    # `retried` went back to its queue after the cut-off: the trigger moved its queued_at.
    token, _ = claim_as(store, stored.event_id, EMAIL, [retried], now)
    record_as(store, stored.event_id, EMAIL, token, [retried], "retrying", now)

    lost = store.requeue_lost(
        now + timedelta(minutes=5), queued_before=schedule_passed, attempt_budget=2, limit=100,
        queue_by_channel_priority=QUEUES, chunk_size=250,
    )  # fmt: skip

    assert (lost.notifications, lost.failed) == (1, 1)
    assert ledger_row(pg_dsn, stored.event_id, EMAIL, untouched)["status"] == "queued"
    spent_row = ledger_row(pg_dsn, stored.event_id, EMAIL, spent)
    assert (spent_row["status"], spent_row["reason"], spent_row["attempts"]) == (
        "failed",
        "retries_exhausted",
        2,
    )
    assert ledger_row(pg_dsn, stored.event_id, EMAIL, retried)["status"] == "retrying"
    assert queued_at(pg_dsn, stored.event_id)[retried] > schedule_passed


def test_the_tick_publishes_the_lost_rows_again_and_reports_them(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user(phone=False, push=False) for _ in range(4)]
    stored = stored_event(store, users, channels=[EMAIL])
    publisher = FakePublisher()
    now = max(queued_at(pg_dsn, stored.event_id).values()) + timedelta(minutes=10)

    report = release_waiting(
        now=now, waiting=store, outbox=store, publisher=publisher, router=ROUTER, chunk_size=3,
        lost=LostMessages(after=timedelta(minutes=9), attempt_budget=5),
    )  # fmt: skip
    early = release_waiting(
        now=now, waiting=store, outbox=store, publisher=publisher, router=ROUTER, chunk_size=3,
        lost=LostMessages(after=timedelta(minutes=11), attempt_budget=5),
    )  # fmt: skip

    assert (report.lost_requeued, report.lost_failed, early.lost_requeued) == (4, 0, 0)
    carried = [NotificationMessage.model_validate_json(m.body) for m in publisher.published]
    assert sorted(len(m.payload.user) for m in carried) == [1, 3]
    assert {u.user_id for m in carried for u in m.payload.user} == {u.user_id for u in users}


def test_rows_whose_queue_still_holds_messages_are_not_taken_for_lost(
    store: PostgresStore, pg_dsn: str
) -> None:
    waiting = [make_user(phone=False, push=False) for _ in range(2)]
    stored = stored_event(store, waiting, channels=[EMAIL])  # priority 5: the normal e-mail queue
    publisher = FakePublisher()
    now = max(queued_at(pg_dsn, stored.event_id).values()) + timedelta(minutes=10)
    lost = LostMessages(after=timedelta(minutes=9), attempt_budget=5)
    normal = ROUTER.queue_for(Channel.EMAIL, 5)

    def release(held: dict[str, int] | None) -> int:
        return release_waiting(
            now=now, waiting=store, outbox=store, publisher=publisher, router=ROUTER, chunk_size=10,
            lost=lost, backlog=None if held is None else (lambda: held),
        ).lost_requeued  # fmt: skip

    # a backlog: the message may still be on its way; a broker that does not say: wait and see
    in_a_backlog = release({queue: 0 for queue in ROUTER.all_names()} | {normal: 3})
    unknown = release({})
    idle = release(dict.fromkeys(ROUTER.all_names(), 0))

    assert (in_a_backlog, unknown, idle) == (0, 0, 2)
