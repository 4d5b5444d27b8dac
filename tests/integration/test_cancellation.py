"""Cancelling an event against PostgreSQL (issue 26, item 1): every row no sender holds is cancelled and
never claimed again, rows being sent finish, the fan-out stops at its next step, a scheduled event's
schedule is cancelled, a second cancel changes nothing; DELETE /schedules stops an occurrence's fan-out."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel
from tests.fakes import FakePublisher
from tests.integration.conftest import MakeApi
from tests.integration.support import claim_as, make_user, stored_event
from tests.integration.test_fan_outs import CHANNELS, ROUTER, accept, step_all, subscribe, to_audience

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EMAIL = Channel.EMAIL
# status, reason, lease end (relative to NOW) of each row before the cancel → its status after
SETUP = {
    "queued": ("queued", None, None, "cancelled"),
    "retrying": ("retrying", None, None, "cancelled"),
    "deferred": ("deferred", "quiet_hours", None, "cancelled"),
    "held": ("held", "digest", None, "cancelled"),
    "sending": ("sending", None, 60, "sending"),  # a sender holds it: it finishes
    "abandoned": ("sending", None, -60, "cancelled"),  # its sender's lease ran out
    "exhausted": ("failed", "retries_exhausted", None, "cancelled"),  # a redrive would try it again
    "sent": ("sent", None, None, "sent"),
    "rejected": ("failed", "rejected", None, "failed"),
}


def _routes(event_type: str, version: int, priority: int) -> dict[Channel, tuple[str, int]]:
    return ROUTER.routes_for({channel: step for step, channel in enumerate(CHANNELS)}, priority)


def members_and_live_rows(dsn: str, event_id: uuid.UUID) -> tuple[int, int]:
    """(members with rows, rows not cancelled) of the event."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT user_id), count(*) FILTER (WHERE status <> 'cancelled') FROM notifications"
            " WHERE event_id = %s",
            (event_id,),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def statuses(dsn: str, event_id: uuid.UUID) -> dict[uuid.UUID, str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT user_id, status FROM notifications WHERE event_id = %s AND channel = 'email'", (event_id,)
        ).fetchall()
    return {row[0]: row[1] for row in rows}


def test_cancel_event_cancels_what_no_sender_holds_and_a_second_cancel_changes_nothing(
    store: PostgresStore, pg_dsn: str
) -> None:
    users = {name: make_user(phone=False, push=False) for name in SETUP}
    stored = stored_event(store, list(users.values()), channels=[EMAIL])
    with psycopg.connect(pg_dsn) as conn:
        for name, (status, reason, lease, _) in SETUP.items():
            conn.execute(
                "UPDATE notifications SET status = %s, reason = %s, claimed_until = %s"
                " WHERE event_id = %s AND user_id = %s",
                (
                    status,
                    reason,
                    None if lease is None else NOW + timedelta(seconds=lease),
                    stored.event_id,
                    users[name].user_id,
                ),
            )

    first = store.cancel_event(stored.event_id, NOW)
    after = statuses(pg_dsn, stored.event_id)
    second = store.cancel_event(stored.event_id, NOW)
    _, claimed = claim_as(store, stored.event_id, EMAIL, [u.user_id for u in users.values()], NOW)

    assert {name: after[user.user_id] for name, user in users.items()} == {
        name: expected for name, (*_, expected) in SETUP.items()
    }
    assert first is not None
    assert (first.cancelled, first.sent, first.in_flight) == (6, 1, 1)
    assert second == first
    assert statuses(pg_dsn, stored.event_id) == after
    assert claimed == set()  # a sender after the cancel takes nothing


def test_cancel_unknown_event_is_none(store: PostgresStore) -> None:
    assert store.cancel_event(uuid.uuid4(), NOW) is None


def test_cancel_stops_an_audience_fan_out_at_its_next_step(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user() for _ in range(40)]
    store.upsert_users(users)
    subscribe(store, users)
    accepted = accept(store, to_audience())
    first_step = store.fan_out_step(None, members=10, routes=_routes, chunk_size=7)
    assert first_step is not None
    assert first_step.event_id == accepted.event_id

    store.cancel_event(accepted.event_id, datetime.now(UTC))
    report = step_all(store, FakePublisher(), members=10)

    made = members_and_live_rows(pg_dsn, accepted.event_id)
    with psycopg.connect(pg_dsn) as conn:
        event = conn.execute("SELECT status FROM events WHERE event_id = %s", (accepted.event_id,)).fetchone()
    assert report.steps == 0
    assert made == (10, 0)  # the first step's members only, every row cancelled
    assert event == ("cancelled",)


def test_cancel_of_a_scheduled_event_cancels_its_schedule(make_api: MakeApi, store: PostgresStore) -> None:
    users = [make_user()]
    store.upsert_users(users)
    api = make_api()
    body = {
        "event_type": "new_episode",
        "created_dt": "2026-01-01T10:00:00+00:00",
        "schedule": "0 9 * * *",
        "payload": {"user": [str(users[0].user_id)], "content": []},
    }
    scheduled = api.post("/events", body).json

    answer = api.post(f"/events/{scheduled['event_id']}/cancel", None)
    schedule = api.get(f"/schedules/{scheduled['schedule_id']}").json
    event = api.get(f"/events/{scheduled['event_id']}").json

    assert answer.status == 200, answer.text
    assert answer.json == {
        "event_id": scheduled["event_id"],
        "status": "cancelled",
        "cancelled": 0,
        "sent": 0,
        "in_flight": 0,
    }
    assert (schedule["state"], schedule["next_run_at"]) == ("cancelled", None)
    assert event["status"] == "cancelled"
    assert api.post(f"/events/{uuid.uuid4()}/cancel", None).status == 404


def test_delete_schedule_stops_an_occurrence_fan_out_in_progress(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user() for _ in range(40)]
    store.upsert_users(users)
    subscribe(store, users)
    accepted = accept(store, to_audience())
    store.fan_out_step(None, members=10, routes=_routes, chunk_size=7)
    schedule_id = uuid.uuid4()
    with psycopg.connect(pg_dsn) as conn:  # the event as a schedule's occurrence, part way through
        conn.execute(
            "INSERT INTO schedules (schedule_id, event_type, priority, timezone, state, user_ids,"
            " content_ids) VALUES (%s, 'new_episode', 5, 'UTC', 'active', '{}', '{}')",
            (schedule_id,),
        )
        conn.execute(
            "UPDATE events SET schedule_id = %s WHERE event_id = %s", (schedule_id, accepted.event_id)
        )

    assert store.cancel_schedule(schedule_id)
    report = step_all(store, FakePublisher(), members=10)

    made = members_and_live_rows(pg_dsn, accepted.event_id)
    assert report.steps == 0
    assert made == (10, 0)


def test_abandoned_send_of_a_cancelled_event_is_cancelled_not_queued_again(
    store: PostgresStore, pg_dsn: str
) -> None:
    """A row being sent when the event was cancelled, whose sender then died: the tick's net for
    abandoned sends cancels it instead of queueing it again."""
    user = make_user(phone=False, push=False)
    stored = stored_event(store, [user], channels=[EMAIL])
    claim_as(store, stored.event_id, EMAIL, [user.user_id], NOW, lease_s=30)
    answer = store.cancel_event(stored.event_id, NOW)
    assert answer is not None
    assert answer.in_flight == 1

    released = store.release_waiting(NOW + timedelta(minutes=5), 100, ROUTER.table(), 7)

    assert released.notifications == 0
    assert released.outbox == []
    assert statuses(pg_dsn, stored.event_id) == {user.user_id: "cancelled"}


def test_hand_back_after_the_cancel_cancels_instead_of_queueing_again(
    store: PostgresStore, pg_dsn: str
) -> None:
    """A sender out of time hands back what it did not reach: of a cancelled event, that is cancelled."""
    users = [make_user(phone=False, push=False) for _ in range(3)]
    stored = stored_event(store, users, channels=[EMAIL])
    token, _ = claim_as(store, stored.event_id, EMAIL, [u.user_id for u in users], NOW)
    store.cancel_event(stored.event_id, NOW)

    queued = store.hand_back(stored.event_id, EMAIL, token, [u.user_id for u in users], ROUTER.table())

    assert queued == []
    assert set(statuses(pg_dsn, stored.event_id).values()) == {"cancelled"}
