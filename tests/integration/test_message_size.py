"""Queue messages are written to fit the broker's limit: every place that stores messages (an
event's fan-out, the tick's occurrences, released notifications) cuts a chunk by bytes too."""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel, EventType, Tier, queue_name, tier_for
from notify.delivery.models import NotificationMessage
from notify.events.models import DirectoryUser
from notify.outbox.ports import OutboundMessage
from notify.tick import run_tick
from tests.fakes import FakePublisher
from tests.integration.conftest import MakeApi
from tests.integration.support import event_body, make_user, new_event
from tests.unit.builders import tick_policy

pytestmark = pytest.mark.integration

MAX_BYTES = 20_000
LONG_PUSH_USERS = 30  # ~4.4 KB each on the push channel: ~130 KB, several messages' worth


@pytest.fixture
def small_store(pg_dsn: str, store: PostgresStore) -> Iterator[PostgresStore]:
    """A store on the test database whose messages must fit MAX_BYTES (`store` empties it)."""
    small = PostgresStore(pg_dsn, max_message_bytes=MAX_BYTES)
    yield small
    small.close()


def long_users(store: PostgresStore) -> list[DirectoryUser]:
    """Users whose push tokens are as long as allowed (4,096) and whose names are long and not ASCII."""
    users = [
        make_user(phone=False, first_name="Ёлка" * 10, last_name="x" * 40) for _ in range(LONG_PUSH_USERS)
    ]
    users = [user.model_copy(update={"push_token": f"{n:04d}" + "t" * 4092}) for n, user in enumerate(users)]
    store.upsert_users(users)
    return users


def assert_fit(messages: Sequence[OutboundMessage], users: Sequence[DirectoryUser]) -> dict[Channel, int]:
    """Every message under MAX_BYTES; per channel, every user exactly once and in id order.
    Returns how many messages each channel took."""
    parsed = [NotificationMessage.model_validate_json(m.body) for m in messages]
    assert max(len(m.body) for m in messages) <= MAX_BYTES
    counts: dict[Channel, int] = {}
    for channel in {p.transport_type for p in parsed}:
        mine = [p for p in parsed if p.transport_type is channel]
        assert all(p.payload.user for p in mine)
        # Pieces are runs of the id order: put end to end by their first recipient, they give it back.
        mine.sort(key=lambda p: p.payload.user[0].user_id)
        assert [u.user_id for p in mine for u in p.payload.user] == sorted(u.user_id for u in users)
        counts[channel] = len(mine)
    push = [u for p in parsed if p.transport_type is Channel.PUSH for u in p.payload.user]
    assert {u.push_token for u in push} == {u.push_token for u in users}
    return counts


def test_create_event_cuts_a_chunk_of_long_push_tokens_to_fit_and_keeps_small_ones_whole(
    small_store: PostgresStore,
) -> None:
    users = long_users(small_store)

    stored = small_store.create_event(new_event([u.user_id for u in users], event_type=EventType.NEW_EPISODE))

    counts = assert_fit(stored.outbox, users)
    assert counts[Channel.EMAIL] == 1  # 30 e-mail recipients fit one message, as before
    # ~4.4 KB per push recipient: 4 fit in 20,000 bytes beside the envelope, so 8 messages.
    assert 8 <= counts[Channel.PUSH] <= 10
    assert stored.notifications == 2 * LONG_PUSH_USERS


def test_tick_occurrence_messages_are_cut_to_fit(small_store: PostgresStore, make_api: MakeApi) -> None:
    users = long_users(small_store)
    start = datetime.now(UTC) + timedelta(hours=1)
    publisher = FakePublisher()
    api = make_api(publisher=publisher)
    api.services.use_store(small_store)
    body = event_body([u.user_id for u in users], start_dt=start.isoformat(), priority=8)
    assert api.post("/events", body).json["status"] == "scheduled"

    report = run_tick(
        now=start,
        schedules=small_store,
        waiting=small_store,
        outbox=small_store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=30),
    )

    assert report.occurrences_sent == 1
    counts = assert_fit(publisher.published, users)
    assert counts[Channel.EMAIL] == 1
    assert counts[Channel.PUSH] >= 8


def test_released_notifications_are_cut_to_fit(small_store: PostgresStore, pg_dsn: str) -> None:
    users = long_users(small_store)
    event = new_event([u.user_id for u in users], event_type=EventType.NEW_EPISODE, channels=[Channel.PUSH])
    small_store.create_event(event)
    now = datetime.now(UTC)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "UPDATE notifications SET status = 'deferred', deliver_after = %s WHERE event_id = %s",
            (now - timedelta(minutes=1), event.event_id),
        )
    queues = {
        f"{channel}-{priority}": queue_name(channel, tier_for(priority), "notify")
        for channel in Channel
        for priority in range(10)
    }

    released = small_store.release_waiting(now, 1000, queues, chunk_size=250)

    assert released.notifications == LONG_PUSH_USERS
    counts = assert_fit(released.outbox, users)
    assert counts == {Channel.PUSH: pytest.approx(9, abs=1)}
    assert {m.queue for m in released.outbox} == {queue_name(Channel.PUSH, Tier.NORMAL, "notify")}
