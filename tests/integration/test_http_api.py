"""The HTTP API in-process (API Gateway REST proxy events) on the real PostgreSQL, broker faked."""

import json
import math
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel, EventType
from notify.delivery.models import NotificationMessage
from notify.events.models import DirectoryUser
from tests.fakes import FakePublisher
from tests.integration.conftest import Api, MakeApi
from tests.integration.support import (
    claim_as,
    event_body,
    make_movie,
    make_user,
    message_rows,
    notification_rows,
    outbox_rows,
    parse,
    record_as,
    stored_event,
    table_counts,
)

pytestmark = pytest.mark.integration

CONTACT = {Channel.EMAIL: "email", Channel.SMS: "phone", Channel.PUSH: "push_token"}
EMPTY = {"events": 0, "notifications": 0, "outbox": 0, "schedules": 0}


def stored_counts(api: Api) -> dict[str, int]:
    counts = table_counts(api.dsn)
    return {table: counts[table] for table in EMPTY}


def assert_errors(answer: Any, status: int, loc_prefix: list[Any]) -> None:
    assert answer.status == status, answer.text
    errors = answer.json["errors"]
    assert errors, answer.text
    for error in errors:
        assert set(error) == {"loc", "msg"}
        assert isinstance(error["msg"], str)
        assert error["msg"]
    assert any(error["loc"][: len(loc_prefix)] == loc_prefix for error in errors), errors


def messages_of(api: Api) -> list[NotificationMessage]:
    return parse(api.publisher.published)


# ---- POST /events: fan-out ---------------------------------------------------------------------


def test_post_events_fans_out_to_known_users_with_contacts(api: Api, store: PostgresStore) -> None:
    everything = make_user()
    email_only = make_user(phone=False, push=False)
    no_contact = make_user(email=False, phone=False, push=False)
    store.upsert_users([everything, email_only, no_contact])
    stranger = str(uuid.uuid4()).upper()
    users: list[str | uuid.UUID] = [
        everything.user_id,
        stranger,
        email_only.user_id,
        no_contact.user_id,
        everything.user_id,
    ]

    answer = api.post("/events", event_body(users, EventType.NEW_EPISODE))

    assert answer.status == 202, answer.text
    body = answer.json
    assert set(body) == {
        "event_id",
        "status",
        "recipients",
        "notifications",
        "skipped_users",
        "schedule_id",
        "next_run_at",
        "fan_out",
    }
    assert (body["status"], body["recipients"], body["notifications"]) == ("queued", 2, 4)
    assert (body["skipped_users"], body["schedule_id"], body["next_run_at"]) == ([stranger], None, None)
    assert body["fan_out"] == {"recipients": 2, "done": 2, "complete": True}  # a list is made at once
    rows = notification_rows(api.dsn, body["event_id"])
    assert rows == {
        (Channel.EMAIL, everything.user_id),
        (Channel.SMS, everything.user_id),
        (Channel.PUSH, everything.user_id),
        (Channel.EMAIL, email_only.user_id),
    }
    assert sorted(message_rows(messages_of(api))) == sorted(rows)


@pytest.mark.parametrize("event_type", list(EventType))
def test_post_events_channels_follow_event_type(
    api: Api, store: PostgresStore, event_type: EventType
) -> None:
    user = make_user()
    store.upsert_users([user])

    answer = api.post("/events", event_body([user.user_id], event_type))

    assert answer.status == 202, answer.text
    expected = {
        EventType.NEW_EPISODE: {Channel.EMAIL, Channel.SMS, Channel.PUSH},
        EventType.COMMENT_LIKED: {Channel.PUSH, Channel.EMAIL},
        EventType.NEW_RELEASES_PROMO: {Channel.EMAIL},
        EventType.WATCH_LATER_REMINDER: {Channel.EMAIL, Channel.PUSH},
    }[event_type]
    assert answer.json["notifications"] == len(expected)
    assert notification_rows(api.dsn, answer.json["event_id"]) == {(c, user.user_id) for c in expected}
    assert {m.transport_type for m in messages_of(api)} == expected
    assert {m.event_type for m in messages_of(api)} == {event_type}


@pytest.mark.parametrize(
    ("priority", "tier"),
    [(9, "high"), (7, "high"), (6, "normal"), (3, "normal"), (None, "normal"), (2, "low"), (0, "low")],
)
def test_post_events_priority_tier_picks_the_queue(
    api: Api, store: PostgresStore, priority: int | None, tier: str
) -> None:
    user = make_user()
    store.upsert_users([user])
    extra: dict[str, Any] = {} if priority is None else {"priority": priority}

    answer = api.post("/events", event_body([user.user_id], EventType.COMMENT_LIKED, **extra))

    assert answer.status == 202, answer.text
    published = api.publisher.published
    assert sorted(m.queue for m in published) == [f"notify-email-{tier}", f"notify-push-{tier}"]
    for outbound, message in zip(published, parse(published), strict=True):
        assert outbound.queue == f"notify-{message.transport_type}-{tier}"
        assert outbound.message_id == message.message_id
        assert message.priority == (5 if priority is None else priority)
    with psycopg.connect(api.dsn) as conn:
        row = conn.execute("SELECT priority FROM events").fetchone()
    assert row == (5 if priority is None else priority,)


def test_post_events_messages_are_chunked_and_carry_only_their_channel_contact(
    make_api: MakeApi, store: PostgresStore
) -> None:
    api = make_api(message_chunk_size=3)
    movie = make_movie("Severance", season=2, episode=5)
    store.upsert_movies([movie])
    full = [make_user() for _ in range(7)]
    no_phone = [make_user(phone=False) for _ in range(2)]
    users: list[DirectoryUser] = full + no_phone
    store.upsert_users(users)
    by_id = {u.user_id: u for u in users}

    answer = api.post("/events", event_body([u.user_id for u in users], content=[movie.movie_id], priority=8))

    assert answer.status == 202, answer.text
    assert (answer.json["recipients"], answer.json["notifications"]) == (9, 9 + 7 + 9)
    messages = messages_of(api)
    per_channel = Counter(m.transport_type for m in messages)
    assert per_channel == {Channel.EMAIL: math.ceil(9 / 3), Channel.SMS: math.ceil(7 / 3), Channel.PUSH: 3}
    for outbound, message in zip(api.publisher.published, messages, strict=True):
        assert 1 <= len(message.payload.user) <= 3
        assert outbound.queue == f"notify-{message.transport_type}-high"
        assert str(message.event_id) == answer.json["event_id"]
        assert [c.title for c in message.payload.content] == ["Severance"]
        for recipient in message.payload.user:
            user = by_id[recipient.user_id]
            contacts = {channel: getattr(recipient, field) for channel, field in CONTACT.items()}
            assert contacts == {
                channel: getattr(user, field) if channel == message.transport_type else None
                for channel, field in CONTACT.items()
            }
    covered = message_rows(messages)
    assert len(covered) == len(set(covered))
    assert set(covered) == notification_rows(api.dsn, answer.json["event_id"])
    # Every stored message was published, and marked so.
    stored = outbox_rows(api.dsn)
    assert set(stored) == {m.message_id for m in api.publisher.published}
    assert all(published_at is not None for _, _, published_at in stored.values())


def test_post_events_content_ids_in_any_spelling_are_known(api: Api, store: PostgresStore) -> None:
    user, first, second = make_user(), make_movie("First"), make_movie("Second")
    store.upsert_users([user])
    store.upsert_movies([first, second])
    content = [str(second.movie_id).upper(), first.movie_id.hex, str(second.movie_id)]

    answer = api.post("/events", event_body([user.user_id], EventType.NEW_RELEASES_PROMO, content=content))

    assert answer.status == 202, answer.text
    [message] = messages_of(api)
    assert [c.title for c in message.payload.content] == ["Second", "First"]


def test_post_events_all_users_unknown_is_accepted_with_nothing_to_send(api: Api) -> None:
    strangers = [str(uuid.uuid4()) for _ in range(3)]

    answer = api.post("/events", event_body(strangers))

    assert answer.status == 202, answer.text
    assert (answer.json["recipients"], answer.json["notifications"], answer.json["skipped_users"]) == (
        0,
        0,
        strangers,
    )
    assert stored_counts(api) == {**EMPTY, "events": 1}
    assert api.publisher.published == []


def test_post_events_ten_thousand_recipients(api: Api, store: PostgresStore) -> None:
    users = [
        {"user_id": str(uuid.uuid4()), "email": f"u{i}@example.test", "push_token": f"token-{i}"}
        for i in range(10_000)
    ]
    assert api.put("/directory/users", users).json == {"upserted": 10_000}
    ids = [u["user_id"] for u in users]
    started = time.monotonic()

    answer = api.post("/events", event_body(ids, EventType.WATCH_LATER_REMINDER, priority=1))

    elapsed = time.monotonic() - started
    assert answer.status == 202, answer.text
    assert (answer.json["recipients"], answer.json["notifications"]) == (10_000, 20_000)
    messages = messages_of(api)
    chunk = api.services.settings.message_chunk_size
    assert len(messages) == 2 * math.ceil(10_000 / chunk)
    assert {m.queue for m in api.publisher.published} == {"notify-email-low", "notify-push-low"}
    covered = Counter(message_rows(messages))
    assert set(covered.values()) == {1}
    expected = {(channel, uuid.UUID(i)) for i in ids for channel in (Channel.EMAIL, Channel.PUSH)}
    assert set(covered) == expected
    assert notification_rows(api.dsn, answer.json["event_id"]) == expected
    assert elapsed < 10, f"accepting 10,000 recipients took {elapsed:.1f}s"


# ---- POST /events: rejected requests store nothing ---------------------------------------------


BAD_USER = "not-a-uuid"


def _bad_bodies(known_user: str, movie: str) -> dict[str, tuple[Any, list[Any]]]:
    good = event_body([known_user], content=[movie])

    def with_payload(**payload: Any) -> dict[str, Any]:
        return {**good, "payload": {**good["payload"], **payload}}

    return {
        "malformed_json": ('{"event_type": "new_episode", ', ["body"]),
        "not_an_object": ("[]", ["body"]),
        "malformed_user_id": (with_payload(user=[known_user, BAD_USER]), ["body", "payload", "user", 1]),
        "malformed_content_id": (with_payload(content=["42"]), ["body", "payload", "content", 0]),
        "unknown_content_id": (
            with_payload(content=[movie, str(uuid.uuid4())]),
            ["body", "payload", "content", 1],
        ),
        "bad_cron": ({**good, "schedule": "61 * * * *"}, ["body", "schedule"]),
        "cron_with_six_fields": ({**good, "schedule": "0 0 9 * * *"}, ["body", "schedule"]),
        "priority_above_9": ({**good, "priority": 10}, ["body", "priority"]),
        "priority_below_0": ({**good, "priority": -1}, ["body", "priority"]),
        "empty_user_list": (with_payload(user=[]), ["body", "payload", "user"]),
        "too_many_users": (
            with_payload(user=[str(uuid.uuid4()) for _ in range(100_001)]),
            ["body", "payload", "user"],
        ),
        "unknown_event_type": ({**good, "event_type": "birthday"}, ["body", "event_type"]),
        "naive_created_dt": ({**good, "created_dt": "2025-03-01T12:00:00"}, ["body", "created_dt"]),
        "missing_created_dt": ({k: v for k, v in good.items() if k != "created_dt"}, ["body", "created_dt"]),
        "unknown_timezone": ({**good, "timezone": "Mars/Olympus"}, ["body", "timezone"]),
        "unknown_field": ({**good, "channel": "sms"}, ["body", "channel"]),
    }


BAD_BODY_CASES = list(_bad_bodies(str(uuid.UUID(int=1)), str(uuid.UUID(int=2))))


@pytest.mark.parametrize("case", BAD_BODY_CASES)
def test_post_events_invalid_request_is_4xx_and_stores_nothing(
    api: Api, store: PostgresStore, case: str
) -> None:
    user, movie = make_user(), make_movie()
    store.upsert_users([user])
    store.upsert_movies([movie])
    body, loc = _bad_bodies(str(user.user_id), str(movie.movie_id))[case]

    if isinstance(body, str):
        answer = api.request("POST", "/events", raw_body=body)
    else:
        answer = api.post("/events", body)

    assert_errors(answer, 422, loc)
    assert stored_counts(api) == EMPTY
    assert api.publisher.published == []


def test_post_events_too_long_idempotency_key_is_4xx(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])

    answer = api.post("/events", event_body([user.user_id]), headers={"Idempotency-Key": "k" * 201})

    assert_errors(answer, 422, ["header"])
    assert stored_counts(api) == EMPTY


# ---- POST /events: idempotency -----------------------------------------------------------------


@pytest.mark.parametrize("header", ["Idempotency-Key", "idempotency-key"])
def test_post_events_same_key_same_body_replays_first_answer(
    api: Api, store: PostgresStore, header: str
) -> None:
    user = make_user()
    store.upsert_users([user])
    body = event_body([user.user_id, uuid.uuid4()])

    first = api.post("/events", body, headers={header: "order-42"})
    published = list(api.publisher.published)
    counts = stored_counts(api)
    second = api.post("/events", body, headers={header: "order-42"})

    assert (first.status, second.status) == (202, 202)
    assert second.json == first.json
    assert stored_counts(api) == counts == {"events": 1, "notifications": 3, "outbox": 3, "schedules": 0}
    assert api.publisher.published == published


def test_post_events_same_key_other_body_is_409(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    first = api.post("/events", event_body([user.user_id]), headers={"Idempotency-Key": "k-1"})
    counts = stored_counts(api)

    other = api.post("/events", event_body([user.user_id], priority=9), headers={"Idempotency-Key": "k-1"})

    assert first.status == 202
    assert_errors(other, 409, ["header", "Idempotency-Key"])
    assert stored_counts(api) == counts
    assert len(api.publisher.published) == 3


def test_post_events_same_key_replays_a_scheduled_answer(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    body = event_body([user.user_id], schedule="30 8 * * *", timezone="Asia/Tokyo")

    first = api.post("/events", body, headers={"Idempotency-Key": "daily"})
    second = api.post("/events", body, headers={"Idempotency-Key": "daily"})

    assert first.status == second.status == 202
    assert second.json == first.json
    assert first.json["status"] == "scheduled"
    assert stored_counts(api) == {**EMPTY, "events": 1, "schedules": 1}


def test_post_events_without_key_creates_a_new_event_each_time(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    body = event_body([user.user_id], EventType.NEW_RELEASES_PROMO)

    first = api.post("/events", body)
    second = api.post("/events", body)

    assert (first.status, second.status) == (202, 202)
    assert first.json["event_id"] != second.json["event_id"]
    assert stored_counts(api) == {"events": 2, "notifications": 2, "outbox": 2, "schedules": 0}
    assert {str(m.event_id) for m in messages_of(api)} == {first.json["event_id"], second.json["event_id"]}


# ---- POST /events: deferred --------------------------------------------------------------------


def test_post_events_with_schedule_is_scheduled(api: Api, store: PostgresStore) -> None:
    user, quiet = make_user(), make_user(email=False, phone=False, push=False)
    store.upsert_users([user, quiet])
    stranger = str(uuid.uuid4())
    before = datetime.now(UTC)

    answer = api.post(
        "/events",
        event_body([user.user_id, quiet.user_id, stranger], schedule="0 9 * * *", timezone="Europe/Moscow"),
    )

    assert answer.status == 202, answer.text
    body = answer.json
    assert (body["status"], body["recipients"], body["notifications"], body["skipped_users"]) == (
        "scheduled",
        1,
        0,
        [stranger],
    )
    next_run = datetime.fromisoformat(body["next_run_at"])
    assert before < next_run <= before + timedelta(days=1)
    assert (next_run.astimezone(UTC).hour, next_run.minute, next_run.second) == (6, 0, 0)  # 09:00 MSK
    with psycopg.connect(api.dsn) as conn:
        row = conn.execute("SELECT schedule_id, cron, timezone, next_run_at FROM schedules").fetchone()
    assert row == (uuid.UUID(body["schedule_id"]), "0 9 * * *", "Europe/Moscow", next_run)
    assert stored_counts(api) == {**EMPTY, "events": 1, "schedules": 1}
    assert api.publisher.published == []
    view = api.get(f"/events/{body['event_id']}")
    assert (view.status, view.json["status"], view.json["schedule_id"], view.json["counts"]) == (
        200,
        "scheduled",
        body["schedule_id"],
        {},
    )


def test_post_events_future_start_dt_is_scheduled_at_that_time(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)

    answer = api.post("/events", event_body([user.user_id], start_dt=start.isoformat()))

    assert answer.status == 202, answer.text
    assert answer.json["status"] == "scheduled"
    assert answer.json["schedule_id"] is not None
    assert datetime.fromisoformat(answer.json["next_run_at"]) == start
    assert stored_counts(api) == {**EMPTY, "events": 1, "schedules": 1}
    assert api.publisher.published == []


def test_post_events_past_start_dt_is_queued_now(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    start = datetime.now(UTC) - timedelta(hours=1)

    answer = api.post("/events", event_body([user.user_id], start_dt=start.isoformat()))

    assert answer.status == 202, answer.text
    assert (answer.json["status"], answer.json["schedule_id"], answer.json["notifications"]) == (
        "queued",
        None,
        3,
    )
    assert len(api.publisher.published) == 3


# ---- GET /events/{id} ---------------------------------------------------------------------------


def test_get_event_reports_counts_per_status(api: Api, store: PostgresStore) -> None:
    users = [make_user(phone=False, push=False) for _ in range(4)]
    store.upsert_users(users)
    accepted = api.post(
        "/events", event_body([u.user_id for u in users], EventType.NEW_RELEASES_PROMO, priority=2)
    )
    event_id = uuid.UUID(accepted.json["event_id"])
    now = datetime.now(UTC)
    token, _ = claim_as(store, event_id, Channel.EMAIL, [u.user_id for u in users[:3]], now)
    record_as(store, event_id, Channel.EMAIL, token, [users[0].user_id], "sent", now, provider_id="p-1")
    record_as(store, event_id, Channel.EMAIL, token, [users[1].user_id], "failed", now, "rejected", "bounced")

    answer = api.get(f"/events/{event_id}")

    assert answer.status == 200, answer.text
    assert answer.json == {
        "event_id": str(event_id),
        "event_type": "new_releases_promo",
        "created_dt": "2025-03-01T12:00:00Z",
        "priority": 2,
        "status": "queued",
        "schedule_id": None,
        "recipients": 4,
        "notifications": 4,
        "skipped_users": [],
        "counts": {"sent": 1, "failed": 1, "sending": 1, "queued": 1},
        "audience": None,
        "fan_out": {"recipients": 4, "done": 4, "complete": True},  # a list of users: made at once
    }


def test_get_event_unknown_id_is_404(api: Api) -> None:
    assert_errors(api.get(f"/events/{uuid.uuid4()}"), 404, ["path"])


def test_get_event_malformed_id_is_4xx(api: Api) -> None:
    assert_errors(api.get("/events/12345"), 422, ["path", "event_id"])


# ---- GET /events/{id}/notifications -------------------------------------------------------------


def accept(api: Api, store: PostgresStore, users: list[DirectoryUser], event_type: EventType) -> str:
    store.upsert_users(users)
    answer = api.post("/events", event_body([u.user_id for u in users], event_type))
    assert answer.status == 202, answer.text
    return str(answer.json["event_id"])


def walk(api: Api, event_id: str, **query: str) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        answer = api.get(
            f"/events/{event_id}/notifications", {**query, **({"cursor": cursor} if cursor else {})}
        )
        assert answer.status == 200, answer.text
        pages.append(answer.json["items"])
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "the cursor does not advance"


def test_list_notifications_walks_every_row_once_with_cursor(api: Api, store: PostgresStore) -> None:
    event_id = accept(api, store, [make_user() for _ in range(3)], EventType.COMMENT_LIKED)  # 6 rows

    pages = walk(api, event_id, limit="4")

    assert [len(page) for page in pages] == [4, 2]
    items = [item for page in pages for item in page]
    assert {(Channel(i["channel"]), uuid.UUID(i["user_id"])) for i in items} == notification_rows(
        api.dsn, event_id
    )
    assert len(items) == 6
    assert all(
        set(i)
        == {
            "id",  # each notification's own since issue 30, with the workflow step that made it
            "step",
            "step_ref",
            "user_id",
            "channel",
            "status",
            "reason",
            "attempts",
            "sent_at",
            "error",
            "deliver_after",
            "digested_into",
            "engagement",
        }
        for i in items
    )
    assert {(i["status"], i["reason"], i["attempts"], i["sent_at"], i["error"]) for i in items} == {
        ("queued", None, 0, None, None)
    }


def test_list_notifications_filters_by_status(api: Api, store: PostgresStore) -> None:
    users = [make_user(phone=False, push=False) for _ in range(5)]
    event_id = accept(api, store, users, EventType.NEW_RELEASES_PROMO)
    now = datetime.now(UTC)
    two = [users[0].user_id, users[1].user_id]
    token, _ = claim_as(store, uuid.UUID(event_id), Channel.EMAIL, two, now)
    record_as(store, uuid.UUID(event_id), Channel.EMAIL, token, two, "failed", now, "rejected", "no")

    failed = [item for page in walk(api, event_id, status="failed", limit="1") for item in page]
    queued = [item for page in walk(api, event_id, status="queued") for item in page]

    assert sorted(i["user_id"] for i in failed) == sorted(str(u.user_id) for u in users[:2])
    assert {(i["reason"], i["error"], i["attempts"]) for i in failed} == {("rejected", "no", 1)}
    assert sorted(i["user_id"] for i in queued) == sorted(str(u.user_id) for u in users[2:])


def test_list_notifications_default_limit_is_100_and_max_is_1000(api: Api, store: PostgresStore) -> None:
    event_id = accept(
        api, store, [make_user(phone=False, push=False) for _ in range(120)], EventType.NEW_EPISODE
    )
    path = f"/events/{event_id}/notifications"

    default = api.get(path)
    biggest = api.get(path, {"limit": "1000"})

    assert (len(default.json["items"]), default.json["next_cursor"] is not None) == (100, True)
    assert (len(biggest.json["items"]), biggest.json["next_cursor"]) == (120, None)
    assert_errors(api.get(path, {"limit": "1001"}), 422, ["query", "limit"])
    assert_errors(api.get(path, {"limit": "0"}), 422, ["query", "limit"])


@pytest.mark.parametrize("cursor", ["garbage", "ZW1haWw6bm90LWEtdXVpZA==", "%%%"])
def test_list_notifications_bad_cursor_is_4xx(api: Api, store: PostgresStore, cursor: str) -> None:
    event_id = accept(api, store, [make_user()], EventType.NEW_EPISODE)

    assert_errors(api.get(f"/events/{event_id}/notifications", {"cursor": cursor}), 422, ["query", "cursor"])


def test_list_notifications_unknown_event_is_404(api: Api) -> None:
    assert_errors(api.get(f"/events/{uuid.uuid4()}/notifications"), 404, ["path"])


# ---- PUT /directory/* --------------------------------------------------------------------------


def test_put_directory_users_upserts_and_updates(api: Api) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    created = api.put(
        "/directory/users",
        [
            {"user_id": first, "first_name": "Ann", "email": "ann@example.test", "birthday": "1990-01-31"},
            {"user_id": second, "phone": "+79001234567", "locale": "ru", "timezone": "Europe/Moscow"},
        ],
    )
    updated = api.put("/directory/users", [{"user_id": first, "first_name": "Anna", "push_token": "tok"}])

    assert (created.status, created.json) == (200, {"upserted": 2})
    assert (updated.status, updated.json) == (200, {"upserted": 1})
    with psycopg.connect(api.dsn) as conn:
        rows = conn.execute(
            "SELECT user_id::text, first_name, email, phone, push_token, locale, timezone"
            " FROM directory_users"
        ).fetchall()
    assert sorted(rows) == sorted(
        [
            (first, "Anna", None, None, "tok", "en", "UTC"),
            (second, None, None, "+79001234567", None, "ru", "Europe/Moscow"),
        ]
    )


def test_put_directory_movies_upserts_and_updates(api: Api, store: PostgresStore) -> None:
    movie = str(uuid.uuid4())

    created = api.put(
        "/directory/movies", [{"movie_id": movie, "title": "Alien", "release_date": "1979-05-25"}]
    )
    updated = api.put(
        "/directory/movies", [{"movie_id": movie, "title": "Aliens", "season": 1, "episode": 2}]
    )

    assert (created.status, created.json, updated.status, updated.json) == (
        200,
        {"upserted": 1},
        200,
        {"upserted": 1},
    )
    [found] = store.find_movies([movie])
    assert (found.title, found.season, found.episode, found.release_date) == ("Aliens", 1, 2, None)


@pytest.mark.parametrize(
    ("bad_row", "field"),
    [
        ({"user_id": "nope"}, "user_id"),
        ({"user_id": str(uuid.UUID(int=7)), "email": "no-at-sign"}, "email"),
        ({"user_id": str(uuid.UUID(int=7)), "phone": "89001234567"}, "phone"),
        ({"user_id": str(uuid.UUID(int=7)), "locale": "de"}, "locale"),
        ({"user_id": str(uuid.UUID(int=7)), "timezone": "Nowhere/City"}, "timezone"),
        ({"user_id": str(uuid.UUID(int=7)), "nickname": "x"}, "nickname"),
    ],
)
def test_put_directory_users_bad_row_rejects_the_whole_request(
    api: Api, bad_row: dict[str, str], field: str
) -> None:
    rows = [
        {"user_id": str(uuid.uuid4()), "email": "a@example.test"},
        {"user_id": str(uuid.uuid4())},
        bad_row,
    ]

    answer = api.put("/directory/users", rows)

    assert_errors(answer, 422, ["body", 2, field])
    assert table_counts(api.dsn)["directory_users"] == 0


@pytest.mark.parametrize(
    ("bad_row", "field"),
    [
        ({"movie_id": str(uuid.UUID(int=9))}, "title"),
        ({"movie_id": str(uuid.UUID(int=9)), "title": "X", "season": -1}, "season"),
    ],
)
def test_put_directory_movies_bad_row_rejects_the_whole_request(
    api: Api, bad_row: dict[str, Any], field: str
) -> None:
    answer = api.put("/directory/movies", [bad_row, {"movie_id": str(uuid.uuid4()), "title": "Fine"}])

    assert_errors(answer, 422, ["body", 0, field])
    assert table_counts(api.dsn)["directory_movies"] == 0


def test_put_directory_users_not_a_list_is_4xx(api: Api) -> None:
    answer = api.request("PUT", "/directory/users", raw_body=json.dumps({"user_id": str(uuid.uuid4())}))

    assert_errors(answer, 422, ["body"])
    assert table_counts(api.dsn)["directory_users"] == 0


# ---- health and schema -------------------------------------------------------------------------


def test_health_ok_when_database_and_broker_answer(api: Api) -> None:
    answer = api.get("/health")

    assert (answer.status, answer.json) == (
        200,
        {
            "status": "ok",
            "database": "ok",
            "broker": "ok",
            "outbox": {"parked": 0},
            "oldest_queued_s": None,
            "dead_letters": {},
        },
    )


def test_health_shows_how_long_the_oldest_queued_row_has_waited(api: Api, store: PostgresStore) -> None:
    stored_event(store, [make_user()])
    with psycopg.connect(api.dsn, autocommit=True) as conn:
        conn.execute("UPDATE notifications SET queued_at = now() - interval '10 minutes'")

    answer = api.get("/health")

    assert answer.status == 200
    assert 600 <= answer.json["oldest_queued_s"] < 660


def test_health_broker_down_is_503(make_api: MakeApi) -> None:
    api = make_api(publisher=FakePublisher(down=True))

    answer = api.get("/health")

    assert answer.status == 503
    assert answer.json["database"] == "ok"
    assert answer.json["broker"].startswith("unavailable")
    assert answer.json["status"] == "degraded"


def test_health_database_down_is_503(api: Api) -> None:
    unreachable = PostgresStore("postgresql://postgres@127.0.0.1:1/notify", connect_timeout_s=1.0)
    api.services.use_store(unreachable)
    try:
        answer = api.get("/health")
    finally:
        unreachable.close()

    assert answer.status == 503
    assert (answer.json["database"], answer.json["broker"]) == ("unavailable: StorageUnavailable", "ok")


def test_post_events_database_down_is_503(api: Api) -> None:
    unreachable = PostgresStore("postgresql://postgres@127.0.0.1:1/notify", connect_timeout_s=1.0)
    api.services.use_store(unreachable)
    try:
        answer = api.post("/events", event_body([uuid.uuid4()]))
    finally:
        unreachable.close()

    assert_errors(answer, 503, ["service"])
    assert api.publisher.published == []


def test_openapi_lists_the_routes(api: Api) -> None:
    answer = api.get("/openapi.json")

    assert answer.status == 200, answer.text
    schema = answer.json
    assert schema["openapi"].startswith("3.")
    routes = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert routes >= {
        ("/events", "post"),
        ("/events/{event_id}", "get"),
        ("/events/{event_id}/notifications", "get"),
        ("/directory/users", "put"),
        ("/directory/movies", "put"),
        ("/health", "get"),
    }
    event_request = schema["components"]["schemas"]["EventRequest"]
    assert set(event_request["required"]) == {"event_type", "created_dt", "payload"}
