"""Delivery feedback on the real PostgreSQL: statuses move on by rank, in any order, once; addresses
that bounce hard, complain or keep bouncing are suppressed."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel
from notify.feedback.intake import SuppressionPolicy, take_feedback
from notify.feedback.ports import Suppression
from notify.feedback.ses_events import COMPLAINT, HARD_BOUNCE, SOFT_BOUNCE, Feedback, FeedbackKind
from tests.integration.conftest import Api
from tests.integration.support import claim_as, ledger_row, make_user, record_as, stored_event

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
EMAIL = Channel.EMAIL
POLICY = SuppressionPolicy()


def sent_email(store: PostgresStore, provider_id: str | None = None) -> tuple[uuid.UUID, uuid.UUID, str]:
    """An e-mail row recorded `sent` with a provider message id: (event id, user id, message id)."""
    user = make_user(phone=False, push=False)
    event_id = stored_event(store, [user], channels=[EMAIL]).event_id
    message_id = provider_id or f"ses-{uuid.uuid4()}"
    token, _ = claim_as(store, event_id, EMAIL, [user.user_id], NOW)
    record_as(store, event_id, EMAIL, token, [user.user_id], "sent", NOW, provider_id=message_id)
    return event_id, user.user_id, message_id


def row(store: PostgresStore, event_id: uuid.UUID, user_id: uuid.UUID) -> tuple[object, object, object]:
    found = ledger_row(store.database.dsn, event_id, EMAIL, user_id)
    return found["status"], found.get("reason"), found["error"]


def suppressions(store: PostgresStore) -> dict[str, str]:
    with psycopg.connect(store.database.dsn) as conn:
        return dict(
            conn.execute("SELECT address, reason FROM suppressions WHERE channel = 'email'").fetchall()
        )


@pytest.fixture(autouse=True)
def clean_feedback(store: PostgresStore) -> None:
    with psycopg.connect(store.database.dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE delivery_feedback, suppressions")


def take(store: PostgresStore, *items: Feedback, now: datetime = NOW) -> int:
    return take_feedback(items, store=store, suppressions=store, now=now, policy=POLICY).changed


def test_feedback_delivery_turns_sent_into_delivered(store: PostgresStore) -> None:
    event_id, user_id, message_id = sent_email(store)

    changed = take(store, Feedback(message_id, FeedbackKind.DELIVERED, "x@example.test"))

    assert changed == 1
    assert row(store, event_id, user_id)[0] == "delivered"


def test_feedback_bounce_overrides_delivered_and_delivered_never_overrides_a_bounce(
    store: PostgresStore,
) -> None:
    event_id, user_id, message_id = sent_email(store)
    bounce = Feedback(
        message_id, FeedbackKind.BOUNCED, "X@Example.test", None, HARD_BOUNCE, "smtp; 550 user unknown"
    )

    take(store, Feedback(message_id, FeedbackKind.DELIVERED, "x@example.test"))
    take(store, bounce)
    again = take(store, Feedback(message_id, FeedbackKind.DELIVERED, "x@example.test"), bounce)

    assert again == 0
    assert row(store, event_id, user_id) == ("bounced", HARD_BOUNCE, "smtp; 550 user unknown")
    assert suppressions(store) == {"x@example.test": HARD_BOUNCE}


def test_feedback_complaint_after_delivery_is_complained_and_suppresses(store: PostgresStore) -> None:
    event_id, user_id, message_id = sent_email(store)

    take(store, Feedback(message_id, FeedbackKind.DELIVERED, "c@example.test"))
    take(store, Feedback(message_id, FeedbackKind.COMPLAINED, "c@example.test", None, COMPLAINT))

    assert row(store, event_id, user_id)[:2] == ("complained", COMPLAINT)
    assert suppressions(store) == {"c@example.test": COMPLAINT}


def test_feedback_applied_twice_changes_nothing_the_second_time(store: PostgresStore) -> None:
    event_id, user_id, message_id = sent_email(store)
    bounce = Feedback(message_id, FeedbackKind.BOUNCED, "b@example.test", None, SOFT_BOUNCE, "mailbox full")

    first, second = take(store, bounce), take(store, bounce)

    assert (first, second) == (1, 0)
    with psycopg.connect(store.database.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM delivery_feedback").fetchone() == (1,)
    assert row(store, event_id, user_id)[:2] == ("bounced", SOFT_BOUNCE)


def test_feedback_that_arrives_before_the_send_is_recorded_applies_when_it_is(store: PostgresStore) -> None:
    user = make_user(phone=False, push=False)
    event_id = stored_event(store, [user], channels=[EMAIL]).event_id
    message_id = f"ses-{uuid.uuid4()}"
    token, _ = claim_as(store, event_id, EMAIL, [user.user_id], NOW)

    # LocalStack publishes the delivery inside SendRawEmail: before the sender records the send.
    assert take(store, Feedback(message_id, FeedbackKind.DELIVERED, "early@example.test")) == 0
    record_as(store, event_id, EMAIL, token, [user.user_id], "sent", NOW, provider_id=message_id)

    found = ledger_row(store.database.dsn, event_id, EMAIL, user.user_id)
    assert (found["status"], found["provider_message_id"], found["sent_at"]) == ("delivered", message_id, NOW)


def test_feedback_soft_bounces_suppress_on_the_third_in_seven_days(store: PostgresStore) -> None:
    address = "soft@example.test"
    messages = [sent_email(store)[2] for _ in range(4)]
    soft = [Feedback(m, FeedbackKind.BOUNCED, address, None, SOFT_BOUNCE) for m in messages]

    take(store, soft[0], now=NOW - timedelta(days=8))  # out of the window
    take(store, soft[1], now=NOW - timedelta(days=2))
    take(store, soft[1], now=NOW - timedelta(days=1))  # a copy: the same bounce, not another
    take(store, soft[2], now=NOW)
    assert suppressions(store) == {}

    take(store, soft[3], now=NOW)

    assert suppressions(store) == {address: "soft_bounces"}


def test_feedback_for_an_unknown_message_is_kept_and_changes_no_row(store: PostgresStore) -> None:
    event_id, user_id, _ = sent_email(store)

    changed = take(
        store, Feedback("no-such-message", FeedbackKind.BOUNCED, "u@example.test", None, HARD_BOUNCE)
    )

    assert changed == 0
    assert row(store, event_id, user_id)[0] == "sent"
    assert suppressions(store) == {"u@example.test": HARD_BOUNCE}


def test_suppressions_through_the_api_on_postgres(api: Api, store: PostgresStore) -> None:
    store.suppress([Suppression("email", f"p{n}@example.test", HARD_BOUNCE, NOW) for n in range(3)])

    added = api.request("PUT", "/suppressions/email/Hand%40Example.test")
    first = api.get("/suppressions", query={"channel": "email", "limit": "2"})
    rest = api.get("/suppressions", query={"channel": "email", "cursor": first.json["next_cursor"]})
    lifted = api.request("DELETE", "/suppressions/email/p0%40example.test")
    again = api.request("DELETE", "/suppressions/email/p0%40example.test")

    assert added.status == 200, added.text
    assert added.json["address"] == "hand@example.test"
    listed = [i["address"] for i in first.json["items"] + rest.json["items"]]
    assert listed == ["hand@example.test", "p0@example.test", "p1@example.test", "p2@example.test"]
    assert (lifted.status, again.status) == (204, 404)
    assert "p0@example.test" not in suppressions(store)
    assert store.find_suppression("email", "P1@example.test") == Suppression(
        "email", "p1@example.test", HARD_BOUNCE, NOW
    )


def test_push_endpoints_are_kept_replaced_and_forgotten_per_token(store: PostgresStore) -> None:
    assert store.find_endpoint("tok-1") is None

    store.remember_endpoint("tok-1", "arn:endpoint/1", NOW)
    store.remember_endpoint("tok-2", "arn:endpoint/2", NOW)
    store.remember_endpoint("tok-1", "arn:endpoint/1b", NOW + timedelta(minutes=1))  # made again

    assert (store.find_endpoint("tok-1"), store.find_endpoint("tok-2")) == (
        "arn:endpoint/1b",
        "arn:endpoint/2",
    )
    store.forget_endpoint("tok-1")
    assert (store.find_endpoint("tok-1"), store.find_endpoint("tok-2")) == (None, "arn:endpoint/2")
