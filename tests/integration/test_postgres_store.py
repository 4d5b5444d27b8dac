"""PostgresStore against the real PostgreSQL: fan-out, outbox, directory, pages (the delivery
ledger has tests of its own: test_delivery_ledger.py)."""

import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.adapters.postgres.database import Database
from notify.channels import Channel, EventType, QueueRouter
from notify.delivery.models import NotificationMessage
from notify.errors import DuplicateIdempotencyKey, InvalidInput, StorageUnavailable
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryMovie, EventAccepted, EventRequest
from notify.events.ports import NewSchedule
from tests.fakes import FakePublisher
from tests.integration.support import (
    claim_as,
    event_body,
    make_movie,
    make_user,
    new_event,
    notification_rows,
    outbox_rows,
    parse,
    record_as,
    run_at_once,
    stored_event,
    table_counts,
)

pytestmark = pytest.mark.integration

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE_S = 60


# ---- fan-out -----------------------------------------------------------------------------------


def test_create_event_counts_rows_per_contact_and_skips_unknown_users(
    store: PostgresStore, pg_dsn: str
) -> None:
    everything = make_user()
    email_only = make_user(phone=False, push=False)
    no_contact = make_user(email=False, phone=False, push=False)
    store.upsert_users([everything, email_only, no_contact])
    unknown_a, unknown_b = str(uuid.uuid4()).upper(), str(uuid.uuid4())
    requested = [
        str(everything.user_id),
        unknown_a,
        str(email_only.user_id),
        str(everything.user_id).upper(),  # the same user again, spelt differently
        str(no_contact.user_id),
        str(everything.user_id),
        unknown_b,
    ]

    stored = store.create_event(new_event(requested, event_type=EventType.NEW_EPISODE))

    assert (stored.recipients, stored.notifications) == (2, 4)
    assert stored.skipped_users == [unknown_a, unknown_b]
    assert notification_rows(pg_dsn, stored.event_id) == {
        (Channel.EMAIL, everything.user_id),
        (Channel.SMS, everything.user_id),
        (Channel.PUSH, everything.user_id),
        (Channel.EMAIL, email_only.user_id),
    }
    view = store.event_view(stored.event_id)
    assert view is not None
    assert (view.recipients, view.notifications, view.skipped_users) == (2, 4, [unknown_a, unknown_b])
    assert view.counts == {"queued": 4}


def test_create_event_only_uses_the_event_channels(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user(), make_user(email=False)]

    stored = stored_event(store, users, event_type=EventType.NEW_RELEASES_PROMO)

    assert notification_rows(pg_dsn, stored.event_id) == {(Channel.EMAIL, users[0].user_id)}
    assert (stored.recipients, stored.notifications) == (1, 1)


def test_create_event_without_known_users_stores_event_and_nothing_else(
    store: PostgresStore, pg_dsn: str
) -> None:
    store.upsert_users([make_user(email=False, phone=False, push=False)])
    stranger = str(uuid.uuid4())

    stored = store.create_event(new_event([stranger]))

    assert (stored.recipients, stored.notifications, stored.skipped_users, stored.outbox) == (
        0,
        0,
        [stranger],
        [],
    )
    counts = table_counts(pg_dsn)
    assert (counts["events"], counts["notifications"], counts["outbox"]) == (1, 0, 0)


def test_create_event_outbox_rows_equal_returned_messages(store: PostgresStore, pg_dsn: str) -> None:
    movie = make_movie("Dune", season=1, episode=2, release_date=date(2025, 2, 1))
    store.upsert_movies([movie])
    users = [make_user() for _ in range(5)]

    stored = stored_event(store, users, chunk_size=2, content=[movie], priority=8)

    stored_rows = outbox_rows(pg_dsn)
    assert {m.message_id: (m.queue, m.body.decode(), None) for m in stored.outbox} == stored_rows
    messages = parse(stored.outbox)
    # 5 users on 3 channels in chunks of 2: 3 messages per channel, of 2, 2 and 1 users.
    sizes = Counter((m.transport_type, len(m.payload.user)) for m in messages)
    assert sizes == {(channel, size): n for channel in Channel for size, n in ((2, 2), (1, 1))}
    assert {m.message_id for m in messages} == set(stored_rows)
    for message in messages:
        assert stored_rows[message.message_id][0] == f"q-{message.transport_type}"
        assert (message.event_id, message.priority, message.event_type) == (
            stored.event_id,
            8,
            EventType.NEW_EPISODE,
        )
        assert [c.model_dump() for c in message.payload.content] == [movie.model_dump()]
    covered = Counter((m.transport_type, u.user_id) for m in messages for u in m.payload.user)
    assert set(covered.values()) == {1}
    assert set(covered) == notification_rows(pg_dsn, stored.event_id)


def test_create_event_message_carries_only_the_channel_contact(store: PostgresStore) -> None:
    user = make_user(birthday=date(1990, 5, 17), locale="ru", timezone="Europe/Moscow")

    stored = stored_event(store, [user])

    by_channel = {m.transport_type: m.payload.user for m in parse(stored.outbox)}
    assert set(by_channel) == set(Channel)
    contacts = {
        channel: [(r.email, r.phone, r.push_token) for r in recipients]
        for channel, recipients in by_channel.items()
    }
    assert contacts == {
        Channel.EMAIL: [(user.email, None, None)],
        Channel.SMS: [(None, user.phone, None)],
        Channel.PUSH: [(None, None, user.push_token)],
    }
    recipient = by_channel[Channel.EMAIL][0]
    assert (recipient.first_name, recipient.birthday_date, recipient.locale, recipient.timezone) == (
        user.first_name,
        date(1990, 5, 17),
        "ru",
        "Europe/Moscow",
    )


def test_create_event_same_idempotency_key_raises_and_keeps_first(store: PostgresStore, pg_dsn: str) -> None:
    users = [make_user()]
    first = stored_event(store, users, idempotency_key="key-1", request_hash="h1")
    before = table_counts(pg_dsn)

    with pytest.raises(DuplicateIdempotencyKey):
        store.create_event(new_event([users[0].user_id], idempotency_key="key-1", request_hash="h2"))

    assert table_counts(pg_dsn) == before
    again = store.find_by_idempotency_key("key-1")
    assert again is not None
    assert (again.event_id, again.request_hash, again.recipients, again.notifications) == (
        first.event_id,
        "h1",
        1,
        3,
    )
    assert store.find_by_idempotency_key("key-2") is None


def test_accept_event_same_key_at_once_creates_one_event(store: PostgresStore, pg_dsn: str) -> None:
    user = make_user()
    store.upsert_users([user])
    request = EventRequest.model_validate(event_body([user.user_id, uuid.uuid4()]))
    publisher = FakePublisher()

    def accept(_: int) -> EventAccepted:
        return accept_event(
            request,
            now=datetime.now(UTC),
            ports=IngestPorts(events=store, directory=store, outbox=store, publisher=publisher),
            policy=IngestPolicy(router=QueueRouter("notify"), chunk_size=250),
            idempotency_key="same-key",
        )

    answers = run_at_once(4, accept)

    assert len(answers) == 4
    assert all(answer == answers[0] for answer in answers)
    assert (answers[0].recipients, answers[0].notifications) == (1, 3)
    counts = table_counts(pg_dsn)
    assert (counts["events"], counts["notifications"], counts["outbox"]) == (1, 3, 3)
    assert {m.event_id for m in parse(publisher.published)} == {answers[0].event_id}
    assert len(publisher.published) == 3


def test_create_scheduled_event_stores_schedule_and_no_rows(store: PostgresStore, pg_dsn: str) -> None:
    user = make_user()
    store.upsert_users([user])
    stranger = str(uuid.uuid4())
    event = new_event([user.user_id, stranger], idempotency_key="sched")
    recipients, skipped = store.count_known_users(event.user_ids, event.channels)
    schedule = NewSchedule(
        schedule_id=uuid.uuid4(),
        event_type=event.event_type,
        priority=event.priority,
        cron="0 9 * * 1",
        timezone="Europe/Moscow",
        start_dt=None,
        next_run_at=NOW + timedelta(days=1),
        user_ids=list(event.user_ids),
        content_ids=[],
    )

    stored = store.create_scheduled_event(event, schedule, recipients, skipped)

    assert (stored.status, stored.recipients, stored.notifications, stored.skipped_users) == (
        "scheduled",
        1,
        0,
        [stranger],
    )
    counts = table_counts(pg_dsn)
    assert (counts["events"], counts["schedules"], counts["notifications"], counts["outbox"]) == (1, 1, 0, 0)
    replay = store.find_by_idempotency_key("sched")
    assert replay is not None
    assert (replay.status, replay.schedule_id, replay.next_run_at) == (
        "scheduled",
        schedule.schedule_id,
        NOW + timedelta(days=1),
    )


def test_count_known_users_counts_users_with_a_contact_on_the_channels(store: PostgresStore) -> None:
    push_only = make_user(email=False, phone=False)
    email_only = make_user(phone=False, push=False)
    store.upsert_users([push_only, email_only])
    stranger = str(uuid.uuid4())
    ids = [str(push_only.user_id), str(email_only.user_id), str(email_only.user_id), stranger]

    assert store.count_known_users(ids, [Channel.EMAIL]) == (1, [stranger])
    assert store.count_known_users(ids, [Channel.EMAIL, Channel.PUSH]) == (2, [stranger])
    assert store.count_known_users(ids, [Channel.SMS]) == (0, [stranger])


# ---- outbox ------------------------------------------------------------------------------------


def test_claim_unpublished_returns_only_unpublished_messages(store: PostgresStore) -> None:
    stored = stored_event(store, [make_user() for _ in range(3)], chunk_size=1)
    published, stranded = stored.outbox[:4], stored.outbox[4:]

    later = datetime.now(UTC) + timedelta(minutes=5)

    store.mark_published([m.message_id for m in published], later)
    claimed = store.claim_unpublished(later, later, limit=100, lease_s=LEASE_S)

    assert sorted(claimed, key=lambda m: m.message_id) == sorted(stranded, key=lambda m: m.message_id)


def test_claim_unpublished_skips_messages_younger_than_older_than(store: PostgresStore) -> None:
    stored_event(store, [make_user()])

    assert store.claim_unpublished(NOW, datetime.now(UTC) - timedelta(minutes=1), 100, LEASE_S) == []


def test_claim_unpublished_lease_keeps_second_claimer_out_until_it_runs_out(store: PostgresStore) -> None:
    stored = stored_event(store, [make_user() for _ in range(4)], chunk_size=1)
    later = datetime.now(UTC) + timedelta(minutes=5)
    ids = {m.message_id for m in stored.outbox}

    first = store.claim_unpublished(later, later, limit=5, lease_s=LEASE_S)
    second = store.claim_unpublished(later, later, limit=100, lease_s=LEASE_S)
    during_lease = store.claim_unpublished(later + timedelta(seconds=LEASE_S - 1), later, 100, LEASE_S)
    after_lease = store.claim_unpublished(later + timedelta(seconds=LEASE_S + 1), later, 100, LEASE_S)

    assert len(first) == 5
    assert {m.message_id for m in second} == ids - {m.message_id for m in first}
    assert during_lease == []
    assert {m.message_id for m in after_lease} == ids


def test_claim_unpublished_concurrent_claimers_split_the_messages(store: PostgresStore) -> None:
    stored = stored_event(store, [make_user() for _ in range(20)], chunk_size=1)
    later = datetime.now(UTC) + timedelta(minutes=5)

    claims = run_at_once(4, lambda _: store.claim_unpublished(later, later, 100, LEASE_S))

    taken = Counter(m.message_id for claim in claims for m in claim)
    assert set(taken.values()) == {1}
    assert set(taken) == {m.message_id for m in stored.outbox}


def test_mark_published_records_time_and_clears_lease(store: PostgresStore, pg_dsn: str) -> None:
    stored = stored_event(store, [make_user()])
    later = datetime.now(UTC) + timedelta(minutes=5)
    claimed = store.claim_unpublished(later, later, 100, LEASE_S)

    store.mark_published([m.message_id for m in claimed], later)

    assert {published for _, _, published in outbox_rows(pg_dsn).values()} == {later}
    assert len(claimed) == len(stored.outbox) == 3
    far_later = later + timedelta(days=1)
    assert store.claim_unpublished(far_later, far_later, 100, LEASE_S) == []


# ---- pages of notifications ------------------------------------------------------------------


def walk(
    store: PostgresStore, event_id: uuid.UUID, status: str | None, limit: int
) -> list[list[tuple[str, uuid.UUID]]]:
    pages, cursor = [], None
    while True:
        page = store.notifications_page(event_id, status, limit, cursor)
        assert page is not None
        pages.append([(str(item.channel), item.user_id) for item in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor
        assert len(pages) < 100, "the cursor does not advance"


def test_notifications_page_walks_every_row_once(store: PostgresStore, pg_dsn: str) -> None:
    stored = stored_event(store, [make_user(phone=False) for _ in range(5)])  # 10 rows: email and push

    pages = walk(store, stored.event_id, None, limit=2)

    assert [len(page) for page in pages] == [2, 2, 2, 2, 2]
    rows = [row for page in pages for row in page]
    assert rows == sorted(rows, key=lambda r: (r[0], str(r[1])))
    assert {(Channel(c), u) for c, u in rows} == notification_rows(pg_dsn, stored.event_id)
    assert len(rows) == len(set(rows)) == 10


def test_notifications_page_filters_by_status(store: PostgresStore) -> None:
    users = [make_user(phone=False, push=False) for _ in range(7)]
    stored = stored_event(store, users)
    sent = [u.user_id for u in users[::2]]  # 4 of 7
    token, _ = claim_as(store, stored.event_id, Channel.EMAIL, sent, NOW)
    record_as(store, stored.event_id, Channel.EMAIL, token, sent, "sent", NOW, provider_id="p-1")

    sent_pages = walk(store, stored.event_id, "sent", limit=2)
    queued_pages = walk(store, stored.event_id, "queued", limit=2)

    assert [len(p) for p in sent_pages] == [2, 2]
    assert sorted(u for p in sent_pages for _, u in p) == sorted(sent)
    assert sorted(u for p in queued_pages for _, u in p) == sorted(set(u.user_id for u in users) - set(sent))
    page = store.notifications_page(stored.event_id, "sent", 10, None)
    assert page is not None
    assert {(i.status, i.attempts, i.sent_at) for i in page.items} == {("sent", 1, NOW)}
    empty = store.notifications_page(stored.event_id, "failed", 10, None)
    assert empty is not None
    assert (empty.items, empty.next_cursor) == ([], None)


def test_notifications_page_unknown_event_is_none(store: PostgresStore) -> None:
    assert store.notifications_page(uuid.uuid4(), None, 10, None) is None


@pytest.mark.parametrize("cursor", ["abc", "!!!!", "bm90LWEtY3Vyc29y"])
def test_notifications_page_rejects_foreign_cursor(store: PostgresStore, cursor: str) -> None:
    stored = stored_event(store, [make_user()])

    with pytest.raises(InvalidInput) as raised:
        store.notifications_page(stored.event_id, None, 10, cursor)

    assert raised.value.problems[0].loc == ("query", "cursor")


# ---- directory ---------------------------------------------------------------------------------


def test_upsert_users_updates_existing_rows(store: PostgresStore, pg_dsn: str) -> None:
    user = make_user(locale="en")
    other = make_user()
    assert store.upsert_users([user, other]) == 2

    changed = user.model_copy(update={"email": "new@example.test", "phone": None, "locale": "ru"})
    assert store.upsert_users([changed]) == 1

    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT user_id, email, phone, locale FROM directory_users").fetchall()
    assert sorted(rows) == sorted(
        [(user.user_id, "new@example.test", None, "ru"), (other.user_id, other.email, other.phone, "en")]
    )


def test_upsert_users_repeated_id_in_one_batch_keeps_the_last(store: PostgresStore, pg_dsn: str) -> None:
    user = make_user()
    newer = user.model_copy(update={"first_name": "Newer"})

    store.upsert_users([user, newer])

    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT user_id, first_name FROM directory_users").fetchall()
    assert rows == [(user.user_id, "Newer")]


def test_upsert_movies_updates_existing_rows(store: PostgresStore) -> None:
    movie = make_movie("Old title", season=1, episode=1)
    other = make_movie("Other")
    assert store.upsert_movies([movie, other]) == 2

    store.upsert_movies([movie.model_copy(update={"title": "New title", "episode": 2})])

    found = store.find_movies([str(other.movie_id), str(movie.movie_id), str(uuid.uuid4())])
    assert found == [other, DirectoryMovie(movie_id=movie.movie_id, title="New title", season=1, episode=2)]


def test_find_movies_without_ids_is_empty(store: PostgresStore) -> None:
    store.upsert_movies([make_movie()])

    assert store.find_movies([]) == []


# ---- schema and connections --------------------------------------------------------------------


def test_migrate_twice_keeps_tables_and_data(store: PostgresStore, pg_dsn: str) -> None:
    stored = stored_event(store, [make_user()])
    before = table_counts(pg_dsn)

    store.migrate()
    store.migrate()

    assert table_counts(pg_dsn) == before
    assert before["notifications"] == 3
    assert store.event_view(stored.event_id) is not None


def test_migrate_concurrently_is_harmless(store: PostgresStore, pg_dsn: str) -> None:
    run_at_once(4, lambda _: store.migrate())

    assert set(table_counts(pg_dsn)) == {
        "events",
        "notifications",
        "outbox",
        "schedules",
        "directory_users",
        "directory_movies",
    }


def test_database_first_use_from_many_threads_opens_one_pool(pg_dsn: str) -> None:
    database = Database(pg_dsn, max_connections=2)
    try:
        pools = run_at_once(8, lambda _: database.pool)
        assert len({id(pool) for pool in pools}) == 1
        assert all(not pool.closed for pool in pools)
    finally:
        database.close()
    assert pools[0].closed


def test_unreachable_database_raises_storage_unavailable() -> None:
    store = PostgresStore("postgresql://postgres@127.0.0.1:1/notify?connect_timeout=1", connect_timeout_s=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable):
            store.check()
        with pytest.raises(StorageUnavailable):
            store.upsert_users([make_user()])
    finally:
        store.close()
    assert time.monotonic() - started < 5


def test_message_bodies_are_valid_notification_messages(store: PostgresStore) -> None:
    stored = stored_event(store, [make_user()], event_type=EventType.COMMENT_LIKED)

    messages = [NotificationMessage.model_validate_json(m.body) for m in stored.outbox]

    # Version 2 since issue 30 (the send step, each recipient's notification id)
    assert {(m.schema_version, m.event_type, m.transport_type) for m in messages} == {
        (2, EventType.COMMENT_LIKED, Channel.PUSH),
        (2, EventType.COMMENT_LIKED, Channel.EMAIL),
    }
    assert all(user.notification_id is not None for m in messages for user in m.payload.user)


def test_event_view_recounts_the_rows_at_most_every_few_seconds(store: PostgresStore, pg_dsn: str) -> None:
    stored = stored_event(store, [make_user(), make_user()])
    first = store.event_view(stored.event_id)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("UPDATE notifications SET status = 'sent' WHERE event_id = %s", (stored.event_id,))
        polled = store.event_view(stored.event_id)  # within COUNTS_FRESH_FOR_S: no scan of the rows
        conn.execute("UPDATE event_status_counts SET counted_at = now() - interval '1 minute'")
        # another request is recounting (it holds the event's lock): this one answers the stored counts
        with psycopg.connect(pg_dsn) as recounting:
            recounting.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"event-counts:{stored.event_id}",)
            )
            during = store.event_view(stored.event_id)
        later = store.event_view(stored.event_id)

    views = [first, polled, during, later]
    assert [view.counts if view else None for view in views] == [{"queued": 6}] * 3 + [{"sent": 6}]
