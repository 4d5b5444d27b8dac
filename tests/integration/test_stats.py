"""Delivery stats on the real PostgreSQL: a window's notifications per channel and event type, handed to
the provider by sent_at (by their status now) and suppressed by the time they were screened; rows
outside the window, or neither handed over nor suppressed, count nowhere."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.adapters.postgres.feedback.feedback import _DELIVERY_COUNTS_SQL
from notify.channels import Channel, EventType
from notify.delivery.controls import SUPPRESSED, Verdict
from notify.feedback.ports import DeliveryCounts
from notify.feedback.ses_events import Feedback, FeedbackKind
from tests.integration.conftest import Api
from tests.integration.support import claim_as, make_user, record_as, stored_event

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(hours=1)
EMAIL, SMS, PUSH = Channel.EMAIL, Channel.SMS, Channel.PUSH


def handed(
    store: PostgresStore, event_id: uuid.UUID, channel: Channel, user_id: uuid.UUID, status: str, at: datetime
) -> str:
    """The row recorded `status` (sent or unconfirmed) at `at`; its provider message id."""
    provider_id = f"pid-{uuid.uuid4()}"
    token, _ = claim_as(store, event_id, channel, [user_id], at)
    record_as(store, event_id, channel, token, [user_id], status, at, provider_id=provider_id)
    return provider_id


def held_back(
    store: PostgresStore,
    event_id: uuid.UUID,
    channel: Channel,
    user_id: uuid.UUID,
    verdict: Verdict,
    at: datetime,
) -> None:
    token, _ = claim_as(store, event_id, channel, [user_id], at)
    store.record_verdicts(event_id, channel, token, [(user_id, verdict)], at)


def feedback(store: PostgresStore, provider_id: str, *kinds: FeedbackKind) -> None:
    for kind in kinds:
        store.record_feedback([Feedback(provider_id, kind, "someone@example.test")], NOW)


def test_delivery_counts_count_the_window_exactly(store: PostgresStore) -> None:
    users = [make_user() for _ in range(10)]
    u = [user.user_id for user in users]
    episode = stored_event(store, users, event_type=EventType.NEW_EPISODE, channels=[EMAIL, SMS]).event_id
    handed(store, episode, EMAIL, u[0], "sent", NOW - timedelta(minutes=30))
    handed(store, episode, EMAIL, u[1], "unconfirmed", NOW - timedelta(minutes=20))
    feedback(
        store, handed(store, episode, EMAIL, u[2], "sent", SINCE), FeedbackKind.DELIVERED
    )  # at the start
    feedback(store, handed(store, episode, EMAIL, u[3], "sent", NOW), FeedbackKind.BOUNCED)  # at the end
    complained = handed(store, episode, EMAIL, u[4], "sent", NOW - timedelta(minutes=5))
    feedback(store, complained, FeedbackKind.DELIVERED, FeedbackKind.COMPLAINED)
    held_back(store, episode, EMAIL, u[5], SUPPRESSED, NOW - timedelta(minutes=1))
    # outside the window, or neither handed over nor suppressed
    feedback(
        store,
        handed(store, episode, EMAIL, u[6], "sent", SINCE - timedelta(seconds=1)),
        FeedbackKind.DELIVERED,
    )
    held_back(store, episode, EMAIL, u[7], SUPPRESSED, NOW - timedelta(hours=3))
    held_back(store, episode, EMAIL, u[8], Verdict("skipped", "opted_out"), NOW - timedelta(minutes=1))
    feedback(store, handed(store, episode, EMAIL, u[9], "sent", NOW), FeedbackKind.REJECTED)  # failed
    handed(store, episode, SMS, u[0], "sent", NOW - timedelta(minutes=1))
    handed(store, episode, SMS, u[1], "sent", NOW + timedelta(seconds=1))
    liked = stored_event(store, users[:2], event_type=EventType.COMMENT_LIKED, channels=[PUSH]).event_id
    handed(store, liked, PUSH, u[0], "sent", NOW - timedelta(minutes=59))
    held_back(store, liked, PUSH, u[1], SUPPRESSED, SINCE)

    counts = store.delivery_counts(SINCE, NOW)

    assert counts == [
        DeliveryCounts("email", "new_episode", sent=2, delivered=1, bounced=1, complained=1, suppressed=1),
        DeliveryCounts("push", "comment_liked", sent=1, suppressed=1),
        DeliveryCounts("sms", "new_episode", sent=1),
    ]
    assert store.delivery_counts(NOW + timedelta(hours=1), NOW + timedelta(hours=2)) == []


def test_delivery_counts_read_through_the_window_indexes(store: PostgresStore) -> None:
    with psycopg.connect(store.database.dsn) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN " + _DELIVERY_COUNTS_SQL, {"since": SINCE, "until": NOW}
            ).fetchall()
        )

    assert "notifications_sent_at" in plan
    assert "notifications_suppressed" in plan


def test_get_stats_answers_the_window_from_the_database(api: Api, store: PostgresStore) -> None:
    now = datetime.now(UTC)
    users = [make_user() for _ in range(3)]
    event_id = stored_event(store, users, event_type=EventType.NEW_RELEASES_PROMO, channels=[EMAIL]).event_id
    feedback(
        store,
        handed(store, event_id, EMAIL, users[0].user_id, "sent", now - timedelta(minutes=2)),
        FeedbackKind.BOUNCED,
    )
    handed(store, event_id, EMAIL, users[1].user_id, "sent", now - timedelta(minutes=2))
    handed(store, event_id, EMAIL, users[2].user_id, "sent", now - timedelta(days=2))

    answer = api.get("/stats", query={"since": (now - timedelta(hours=1)).isoformat()})

    assert answer.status == 200, answer.text
    email = {
        "sent": 1,
        "delivered": 0,
        "bounced": 1,
        "complained": 0,
        "suppressed": 0,
        "bounce_rate": 0.5,
        "complaint_rate": 0.0,
        # opens and clicks since issue 30 (none here)
        "opened": 0,
        "clicked": 0,
        "open_rate": 0.0,
        "click_rate": 0.0,
    }
    assert answer.json["items"] == [{"channel": "email", "event_type": "new_releases_promo", **email}]
    assert answer.json["totals"]["email"] == email


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30T00:00:00Z"]
)
def test_get_stats_takes_any_edge_of_time_without_a_5xx(api: Api, since: str) -> None:
    answer = api.get("/stats", query={"since": since})

    assert answer.status in {200, 422}, answer.text
