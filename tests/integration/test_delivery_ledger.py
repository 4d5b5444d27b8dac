"""The delivery ledger against the real PostgreSQL: claims per attempt, outcomes written only by
the attempt that holds the row, hand-back of what an attempt did not reach, what is left."""

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel, QueueRouter
from notify.delivery.controls import Verdict
from notify.delivery.models import NotificationMessage
from notify.delivery.ports import Outcome, Pending
from tests.integration.support import (
    claim_as,
    ledger_row,
    make_user,
    outbox_rows,
    record_as,
    run_at_once,
    stored_event,
)

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EMAIL = Channel.EMAIL
ROUTER = QueueRouter("notify")


def test_claim_is_exclusive_when_claimers_race(store: PostgresStore) -> None:
    users = [make_user(phone=False, push=False) for _ in range(200)]
    ids = [u.user_id for u in users]
    for _ in range(3):
        event_id = stored_event(store, users, channels=[EMAIL]).event_id

        def claim(i: int, event_id: uuid.UUID = event_id) -> set[uuid.UUID]:
            # Each claimer asks for every recipient, in an order of its own.
            return claim_as(store, event_id, EMAIL, ids[i:] + ids[:i], NOW)[1]

        claims = run_at_once(6, claim)

        taken = Counter(user_id for claim in claims for user_id in claim)
        assert set(taken.values()) == {1}
        assert set(taken) == set(ids)


def test_claim_takes_each_recipient_once_then_nothing(store: PostgresStore, pg_dsn: str) -> None:
    user, other = make_user(), make_user()
    stored = stored_event(store, [user, other])

    token, first = claim_as(store, stored.event_id, Channel.SMS, [user.user_id, uuid.uuid4()], NOW, 30)
    _, second = claim_as(store, stored.event_id, Channel.SMS, [user.user_id], NOW)

    assert (first, second) == ({user.user_id}, set())
    row = ledger_row(pg_dsn, stored.event_id, Channel.SMS, user.user_id)
    until = NOW + timedelta(seconds=30)
    assert (row["status"], row["claim_token"], row["until"]) == ("sending", token, until)
    # Neither the other channel nor the other user was touched.
    assert ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)["status"] == "queued"
    assert ledger_row(pg_dsn, stored.event_id, Channel.SMS, other.user_id)["status"] == "queued"


def test_claim_after_sent_returns_nothing(store: PostgresStore, pg_dsn: str) -> None:
    user = make_user()
    stored = stored_event(store, [user])
    token, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW)

    written = record_as(store, stored.event_id, EMAIL, token, [user.user_id], "sent", NOW, provider_id="p-1")

    assert written == {user.user_id}
    assert claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW + timedelta(days=1))[1] == set()
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    assert (row["status"], row["sent_at"], row["provider_message_id"], row["attempts"]) == (
        "sent",
        NOW,
        "p-1",
        1,
    )
    assert (row["claim_token"], row["until"]) == (None, None)


def test_claim_expired_lease_can_be_claimed_again(store: PostgresStore, pg_dsn: str) -> None:
    user = make_user()
    stored = stored_event(store, [user])
    assert claim_as(store, stored.event_id, Channel.PUSH, [user.user_id], NOW, 20)[1] == {user.user_id}

    within = claim_as(store, stored.event_id, Channel.PUSH, [user.user_id], NOW + timedelta(seconds=20))[1]
    after = claim_as(store, stored.event_id, Channel.PUSH, [user.user_id], NOW + timedelta(seconds=21))[1]

    assert (within, after) == (set(), {user.user_id})
    assert ledger_row(pg_dsn, stored.event_id, Channel.PUSH, user.user_id)["attempts"] == 2


@pytest.mark.parametrize(
    ("status", "reason", "claimable"),
    [
        ("retrying", None, True),
        ("failed", "retries_exhausted", True),
        ("failed", "rejected", False),
        ("failed", "no_contact", False),
        ("unconfirmed", "provider_timeout", False),
    ],
)
def test_claim_after_an_outcome_only_what_a_later_attempt_may_send(
    store: PostgresStore, pg_dsn: str, status: str, reason: str | None, claimable: bool
) -> None:
    user = make_user()
    stored = stored_event(store, [user])
    token, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW)
    record_as(store, stored.event_id, EMAIL, token, [user.user_id], status, NOW, reason, "provider said no")
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    assert (row["status"], row["reason"], row["error"]) == (status, reason, "provider said no")

    _, claimed = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW + timedelta(days=1))

    assert claimed == ({user.user_id} if claimable else set())
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    assert (row["status"], row["reason"]) == (("sending", None) if claimable else (status, reason))


def test_record_outcomes_of_an_attempt_whose_claim_was_taken_over_are_not_written(
    store: PostgresStore, pg_dsn: str
) -> None:
    user = make_user()
    stored = stored_event(store, [user])
    stale, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW, lease_s=10)
    later = NOW + timedelta(seconds=11)
    fresh, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], later)
    record_as(store, stored.event_id, EMAIL, fresh, [user.user_id], "sent", later, provider_id="p-fresh")

    # The first attempt comes back late: it must not turn the second one's `sent` into anything.
    written = record_as(store, stored.event_id, EMAIL, stale, [user.user_id], "retrying", later, error="late")

    assert written == set()
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    assert (row["status"], row["provider_message_id"], row["error"]) == ("sent", "p-fresh", None)


def test_record_outcomes_writes_a_batch_in_one_statement_with_each_outcome(
    store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user(phone=False, push=False) for _ in range(4)]
    stored = stored_event(store, users)
    ids = [u.user_id for u in users]
    token, _ = claim_as(store, stored.event_id, EMAIL, ids, NOW)

    outcomes = [
        Outcome(ids[0], "sent", NOW + timedelta(seconds=1), provider_id="p-0"),
        Outcome(ids[1], "unconfirmed", NOW + timedelta(seconds=2), "provider_timeout", "may have been"),
        Outcome(ids[2], "failed", NOW, "rejected", "MessageRejected"),
        Outcome(ids[3], "retrying", NOW, None, "Throttling"),
    ]

    written = store.record_outcomes(stored.event_id, EMAIL, token, outcomes)

    assert written == set(ids)
    rows = [ledger_row(pg_dsn, stored.event_id, EMAIL, user_id) for user_id in ids]
    assert [(r["status"], r["reason"], r["error"], r["sent_at"]) for r in rows] == [
        ("sent", None, None, NOW + timedelta(seconds=1)),
        ("unconfirmed", "provider_timeout", "may have been", NOW + timedelta(seconds=2)),
        ("failed", "rejected", "MessageRejected", None),
        ("retrying", None, "Throttling", None),
    ]
    assert all(r["claim_token"] is None and r["until"] is None for r in rows)


def test_record_outcomes_gives_the_cap_slot_of_a_failed_send_back(store: PostgresStore, pg_dsn: str) -> None:
    kept, given_back = make_user(phone=False, push=False), make_user(phone=False, push=False)
    stored = stored_event(store, [kept, given_back])
    token, _ = claim_as(store, stored.event_id, EMAIL, [kept.user_id, given_back.user_id], NOW)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        for user in (kept, given_back):
            conn.execute(
                "INSERT INTO frequency_reservations (user_id, event_type, channel, reserved_at, event_id)"
                " VALUES (%s, 'new_episode', 'email', %s, %s)",
                (user.user_id, NOW, stored.event_id),
            )

    record_as(store, stored.event_id, EMAIL, token, [kept.user_id], "sent", NOW)
    record_as(store, stored.event_id, EMAIL, token, [given_back.user_id], "failed", NOW, "rejected", "no")

    with psycopg.connect(pg_dsn) as conn:
        left = {row[0] for row in conn.execute("SELECT user_id FROM frequency_reservations").fetchall()}
    assert left == {kept.user_id}


def test_hand_back_releases_the_rows_and_stores_their_message_together(
    store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user(phone=False, push=False) for _ in range(3)]
    stored = stored_event(store, users)
    ids = [u.user_id for u in users]
    token, _ = claim_as(store, stored.event_id, EMAIL, ids, NOW)
    record_as(store, stored.event_id, EMAIL, token, ids[:1], "sent", NOW)

    [queued] = store.hand_back(stored.event_id, EMAIL, token, ids, ROUTER.table())

    statuses = [ledger_row(pg_dsn, stored.event_id, EMAIL, u)["status"] for u in ids]
    assert statuses == ["sent", "queued", "queued"]
    assert claim_as(store, stored.event_id, EMAIL, ids, NOW)[1] == set(ids[1:])  # claimable at once
    assert outbox_rows(pg_dsn)[queued.message_id] == (queued.queue, queued.body.decode(), None)
    # built from the rows like the fan-out's messages: only the released recipients, their contacts
    carried = NotificationMessage.model_validate_json(queued.body)
    with psycopg.connect(pg_dsn) as conn:
        [(priority,)] = conn.execute("SELECT priority FROM events WHERE event_id = %s", (stored.event_id,))
    assert queued.queue == ROUTER.queue_for(EMAIL, priority)
    assert (carried.event_id, carried.transport_type) == (stored.event_id, EMAIL)
    assert {(u.user_id, u.email, u.phone) for u in carried.payload.user} == {
        (u.user_id, u.email, None) for u in users[1:]
    }
    assert carried.message_id == queued.message_id


def test_hand_back_cuts_the_released_rows_to_the_message_size_limit(
    store: PostgresStore, pg_dsn: str
) -> None:
    del store  # the schema
    small = PostgresStore(pg_dsn, max_message_bytes=2_500)
    try:
        users = [make_user(phone=False, push=False) for _ in range(12)]
        stored = stored_event(small, users)
        ids = [u.user_id for u in users]
        token, _ = claim_as(small, stored.event_id, EMAIL, ids, NOW)

        queued = small.hand_back(stored.event_id, EMAIL, token, ids, ROUTER.table())
    finally:
        small.close()

    assert len(queued) > 1
    assert all(len(message.body) <= 2_500 for message in queued)
    carried = [
        u.user_id for m in queued for u in NotificationMessage.model_validate_json(m.body).payload.user
    ]
    assert sorted(carried) == sorted(ids)


def test_hand_back_carries_rows_nobody_claimed_with_its_own(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user(phone=False, push=False) for _ in range(3)]
    stored = stored_event(store, users)
    ids = [u.user_id for u in users]
    token, _ = claim_as(store, stored.event_id, EMAIL, ids[:1], NOW)  # ids[1:] never claimed

    [queued] = store.hand_back(stored.event_id, EMAIL, token, ids, ROUTER.table())

    carried = NotificationMessage.model_validate_json(queued.body).payload.user
    assert sorted(u.user_id for u in carried) == sorted(ids)
    assert [ledger_row(pg_dsn, stored.event_id, EMAIL, u)["status"] for u in ids] == ["queued"] * 3


def test_hand_back_leaves_rows_another_attempt_holds(store: PostgresStore, pg_dsn: str) -> None:
    user = make_user(phone=False, push=False)
    stored = stored_event(store, [user])
    stale, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW, lease_s=1)
    later = NOW + timedelta(seconds=2)
    claim_as(store, stored.event_id, EMAIL, [user.user_id], later)
    before = set(outbox_rows(pg_dsn))

    assert store.hand_back(stored.event_id, EMAIL, stale, [user.user_id], ROUTER.table()) == []

    assert ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)["status"] == "sending"
    assert set(outbox_rows(pg_dsn)) == before


def test_pending_counts_what_is_not_final(store: PostgresStore) -> None:
    users = [make_user(phone=False, push=False) for _ in range(5)]
    stored = stored_event(store, users)
    ids = [u.user_id for u in users]
    token, _ = claim_as(store, stored.event_id, EMAIL, ids[:4], NOW, lease_s=30)
    record_as(store, stored.event_id, EMAIL, token, ids[:1], "sent", NOW)
    record_as(store, stored.event_id, EMAIL, token, ids[1:2], "retrying", NOW)
    # ids[2:4] stay `sending` under the claim, ids[4] was never claimed (queued)

    assert store.pending(stored.event_id, EMAIL, ids) == Pending(
        waiting=2, held_by_others=2, held_until=NOW + timedelta(seconds=30)
    )
    assert store.pending(stored.event_id, EMAIL, ids[:1]) == Pending(0, 0, None)


def test_release_waiting_requeues_rows_an_attempt_abandoned(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user(phone=False, push=False) for _ in range(3)]
    stored = stored_event(store, users, channels=[EMAIL])
    dead, recent, finished = (u.user_id for u in users)
    token, _ = claim_as(store, stored.event_id, EMAIL, [dead, recent, finished], NOW, lease_s=10)
    record_as(store, stored.event_id, EMAIL, token, [finished], "sent", NOW)
    # `recent`: its holder's lease was renewed by a later attempt that is still within its grace
    claim_as(store, stored.event_id, EMAIL, [recent], NOW + timedelta(seconds=11), lease_s=10)
    queues = {f"email-{priority}": "notify-email-normal" for priority in range(10)}

    swept = store.release_waiting(NOW + timedelta(seconds=75), 100, queues, chunk_size=250)

    assert swept.notifications == 1
    [message] = swept.outbox
    carried = NotificationMessage.model_validate_json(message.body)
    assert (message.queue, carried.event_id, [u.user_id for u in carried.payload.user]) == (
        "notify-email-normal",
        stored.event_id,
        [dead],
    )
    assert carried.payload.user[0].email == users[0].email
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, dead)
    assert (row["status"], row["claim_token"]) == ("retrying", None)
    assert ledger_row(pg_dsn, stored.event_id, EMAIL, recent)["status"] == "sending"
    assert ledger_row(pg_dsn, stored.event_id, EMAIL, finished)["status"] == "sent"
    assert message.message_id in outbox_rows(pg_dsn)


def test_record_verdicts_of_an_attempt_whose_claim_was_taken_over_are_not_written(
    store: PostgresStore, pg_dsn: str
) -> None:
    """An attempt whose lease ran out screens its recipients late: its `held` must not overwrite the
    claim of the attempt that took the row over, whose `sent` then still lands."""
    user = make_user()
    stored = stored_event(store, [user])
    stale, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW, lease_s=10)
    later = NOW + timedelta(seconds=11)
    fresh, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], later)

    held = Verdict("held", "digest", later + timedelta(minutes=10))
    written = store.record_verdicts(stored.event_id, EMAIL, stale, [(user.user_id, held)], later)
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    sent = record_as(
        store, stored.event_id, EMAIL, fresh, [user.user_id], "sent", later, provider_id="p-fresh"
    )

    assert (row["status"], row["claim_token"]) == ("sending", fresh)
    assert sent == {user.user_id}
    assert written == set()
    assert ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)["status"] == "sent"


def test_record_verdicts_of_the_attempt_holding_the_claim_are_written_and_release_it(
    store: PostgresStore, pg_dsn: str
) -> None:
    user = make_user()
    stored = stored_event(store, [user])
    token, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW)

    written = store.record_verdicts(
        stored.event_id, EMAIL, token, [(user.user_id, Verdict("skipped", "opted_out"))], NOW
    )

    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    assert written == {user.user_id}
    assert (row["status"], row["reason"], row["claim_token"], row["until"]) == (
        "skipped",
        "opted_out",
        None,
        None,
    )


def test_a_deferred_outcome_waits_for_its_retry_time_then_the_tick_queues_it_again(
    store: PostgresStore, pg_dsn: str
) -> None:
    [user] = [make_user(phone=False, push=False)]
    stored = stored_event(store, [user], channels=[EMAIL])
    token, _ = claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW)
    retry_at = NOW + timedelta(seconds=40)
    outcome = Outcome(
        user.user_id, "deferred", NOW, "provider_unavailable", "ses: Throttling", retry_at=retry_at
    )
    assert store.record_outcomes(stored.event_id, EMAIL, token, [outcome]) == {user.user_id}
    queues = ROUTER.table()

    early = store.release_waiting(retry_at - timedelta(seconds=1), 100, queues, chunk_size=250)
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    due = store.release_waiting(retry_at, 100, queues, chunk_size=250)

    assert (row["status"], row["reason"], row["claim_token"]) == ("deferred", "provider_unavailable", None)
    assert (early.notifications, due.notifications) == (0, 1)
    [message] = due.outbox
    assert [u.user_id for u in NotificationMessage.model_validate_json(message.body).payload.user] == [
        user.user_id
    ]
    assert ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)["status"] == "queued"


def test_a_claim_asked_again_by_its_attempt_gives_back_its_rows_counted_once(
    store: PostgresStore, pg_dsn: str
) -> None:
    """The claim's COMMIT landed but the connection died before its answer: the attempt asks again on a
    new connection and gets the rows it holds (not 'held by another attempt' until its own lease ends);
    another attempt still gets none of them."""
    user, other = make_user(phone=False, push=False), make_user(phone=False, push=False)
    stored = stored_event(store, [user, other], channels=[EMAIL])
    ids, token, until = [user.user_id, other.user_id], uuid.uuid4(), NOW + timedelta(seconds=30)

    first = store.claim(stored.event_id, EMAIL, ids, token=token, now=NOW, until=until)
    again = store.claim(stored.event_id, EMAIL, ids, token=token, now=NOW, until=until)
    others = store.claim(stored.event_id, EMAIL, ids, token=uuid.uuid4(), now=NOW, until=until)

    assert (first, again, others) == (set(ids), set(ids), set())
    row = ledger_row(pg_dsn, stored.event_id, EMAIL, user.user_id)
    assert (row["status"], row["attempts"], row["claim_token"], row["until"]) == ("sending", 1, token, until)
