"""Recurring and delayed sends (issue #5) against the real PostgreSQL, with a controllable clock.

Every call that takes a time (accept_event, run_tick, change_schedule) is given it: the tests walk
a simulated clock through days, DST changes and missed ticks. Occurrences are checked where they
land: the events and notifications stored, the messages published (FakePublisher) and, for
cancelled schedules, what the delivery path would send (deliver_message with a FakeSender).
"""

import multiprocessing
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from notify.adapters.postgres import PostgresStore
from notify.channels import EventType, QueueRouter
from notify.cron import next_run
from notify.delivery.models import NotificationMessage
from notify.delivery.rendering import TemplateRenderer
from notify.errors import NotFound, StateConflict, TickIncomplete
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryUser, EventAccepted, EventRequest
from notify.outbox.ports import OutboundMessage
from notify.scheduling.models import SchedulePatch
from notify.scheduling.ports import DueSchedule, FiredBatch, Firing
from notify.scheduling.schedules import change_schedule, describe_schedule
from notify.tick import TickReport, run_tick
from notify_dev.delivering import deliver
from tests.fakes import FakePublisher, FakeSender
from tests.integration.conftest import Api
from tests.integration.support import event_body, make_movie, make_user, parse, table_counts
from tests.unit.builders import tick_policy

pytestmark = pytest.mark.integration

GRACE_S = 30
CHUNK = 250
PROMO = EventType.NEW_RELEASES_PROMO  # e-mail only: one message per occurrence and chunk


def at(text: str) -> datetime:
    """'2025-03-10 09:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def every(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """start, start + step, ... up to and including end."""
    moments = []
    while start <= end:
        moments.append(start)
        start += step
    return moments


MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Occurrence:
    event_id: uuid.UUID
    created_dt: datetime
    recipients: int
    notifications: int
    skipped_users: list[str]


class Service:
    """The service on a simulated clock: POST with accept_event, tick with run_tick, both given `now`.

    Remembers at which tick each event's first message was published.
    """

    def __init__(self, store: PostgresStore, dsn: str, publisher: FakePublisher | None = None) -> None:
        self.store = store
        self.dsn = dsn
        self.publisher = publisher if publisher is not None else FakePublisher()
        self.published_at: dict[uuid.UUID, datetime] = {}

    def post(self, body: dict[str, Any], *, now: datetime, key: str | None = None) -> EventAccepted:
        return accept_event(
            EventRequest.model_validate(body),
            now=now,
            ports=IngestPorts(
                events=self.store, directory=self.store, outbox=self.store, publisher=self.publisher
            ),
            policy=IngestPolicy(router=QueueRouter("notify"), chunk_size=CHUNK),
            idempotency_key=key,
        )

    def schedule(
        self, users: Iterable[DirectoryUser | str | uuid.UUID], *, now: datetime, **fields: Any
    ) -> uuid.UUID:
        ids = [u.user_id if isinstance(u, DirectoryUser) else u for u in users]
        answer = self.post(event_body(ids, fields.pop("event_type", PROMO), **fields), now=now)
        assert answer.status == "scheduled", answer
        assert answer.schedule_id is not None
        return answer.schedule_id

    def tick(
        self,
        now: datetime,
        *,
        max_lateness: timedelta = timedelta(hours=1),
        batch_size: int = 1000,
        chunk_size: int = CHUNK,
    ) -> TickReport:
        before = len(self.publisher.published)
        report = run_tick(
            now=now,
            schedules=self.store,
            waiting=self.store,
            outbox=self.store,
            publisher=self.publisher,
            policy=tick_policy(
                outbox_grace_s=GRACE_S,
                max_lateness=max_lateness,
                batch_size=batch_size,
                chunk_size=chunk_size,
            ),
        )
        for message in parse(self.publisher.published[before:]):
            self.published_at.setdefault(message.event_id, now)
        return report

    def tick_through(self, moments: Iterable[datetime]) -> dict[datetime, int]:
        """Tick at each moment; the moments at which occurrences were sent, with how many."""
        sent = {}
        for moment in moments:
            report = self.tick(moment)
            if report.occurrences_sent:
                sent[moment] = report.occurrences_sent
        return sent

    def messages(self) -> list[NotificationMessage]:
        return parse(self.publisher.published)

    def occurrences(self, schedule_id: uuid.UUID) -> list[Occurrence]:
        """The schedule's occurrence events as stored, oldest first."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                """
                SELECT event_id, created_dt, recipients, notifications, skipped_users FROM events
                WHERE schedule_id = %s AND occurrence_key IS NOT NULL ORDER BY created_dt
                """,
                (schedule_id,),
            ).fetchall()
        return [Occurrence(*row) for row in rows]

    def sent_moments(self, schedule_id: uuid.UUID) -> list[datetime]:
        """created_dt of each occurrence of the schedule that reached the broker, in order.

        Also checks that each went out at the tick of its due moment (not later) and that its
        messages carry the occurrence's created_dt."""
        stored = {o.event_id: o.created_dt for o in self.occurrences(schedule_id)}
        published = {m.event_id: m.created_dt for m in self.messages() if m.event_id in stored}
        for event_id, created_dt in published.items():
            assert created_dt == stored[event_id]
            assert self.published_at[event_id] == created_dt, "sent at a later tick than its due moment"
        return sorted(published.values())

    def schedule_row(self, schedule_id: uuid.UUID) -> dict[str, Any]:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                """
                SELECT state, next_run_at, last_run_at, runs, skipped_runs FROM schedules
                WHERE schedule_id = %s
                """,
                (schedule_id,),
            ).fetchone()
        assert row is not None
        return dict(zip(("state", "next_run_at", "last_run_at", "runs", "skipped_runs"), row, strict=True))

    def assert_each_recipient_once(self) -> None:
        """No (event, channel, user) was published twice, and nothing stored stayed unpublished."""
        sends = Counter(
            (m.event_id, m.transport_type, u.user_id) for m in self.messages() for u in m.payload.user
        )
        assert [key for key, n in sends.items() if n > 1] == []
        with psycopg.connect(self.dsn) as conn:
            stored = conn.execute("SELECT count(*) FROM notifications").fetchone()
        assert stored == (sum(sends.values()),)


@pytest.fixture
def svc(store: PostgresStore, pg_dsn: str) -> Service:
    return Service(store, pg_dsn)


def deliver_all(store: PostgresStore, messages: Sequence[OutboundMessage], now: datetime) -> FakeSender:
    """Run the messages through the delivery path with the store as ledger; what was sent."""
    sender = FakeSender()
    for message in parse(messages):
        deliver(message, store, sender, TemplateRenderer(), now=now)
    return sender


def notification_statuses(dsn: str, schedule_id: uuid.UUID) -> Counter[tuple[str, str | None]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """
            SELECT n.status, n.reason FROM notifications n JOIN events e USING (event_id)
            WHERE e.schedule_id = %s
            """,
            (schedule_id,),
        ).fetchall()
    return Counter((status, reason) for status, reason in rows)


def date_outbox(dsn: str, moment: datetime) -> None:
    """Give unpublished outbox rows the simulated clock's time (the column defaults to the real one)."""
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE outbox SET created_at = %s WHERE published_at IS NULL", (moment,))


@contextmanager
def crash_on_schedule_update(dsn: str) -> Iterator[None]:
    """Make every UPDATE of schedules fail (a tick dying mid-transaction) until the block ends."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """
            CREATE FUNCTION test_crash() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN RAISE EXCEPTION 'crash'; END $$;
            CREATE TRIGGER test_crash BEFORE UPDATE ON schedules FOR EACH ROW EXECUTE FUNCTION test_crash();
            """
        )
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER test_crash ON schedules; DROP FUNCTION test_crash()")


class HoldingStore(PostgresStore):
    """A store whose tick, once it has claimed its due schedules, waits until released:
    a tick caught in the middle of its transaction, row locks held."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn, max_connections=2)
        self.claimed = threading.Event()
        self.release = threading.Event()

    def fire_due(
        self,
        now: datetime,
        limit: int,
        plan: Callable[[list[DueSchedule]], list[Firing]],
        chunk_size: int,
        max_users: int,
    ) -> FiredBatch:
        def held(due: list[DueSchedule]) -> list[Firing]:
            firings = plan(due)
            self.claimed.set()
            assert self.release.wait(60), "never released"
            return firings

        return super().fire_due(now, limit, held, chunk_size, max_users)


# ---- cadences ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "timezone", "start", "end", "step", "expected"),
    [
        pytest.param(
            "0 9 * * *",
            "UTC",
            at("2025-03-10 00:00"),
            at("2025-03-12 23:55"),
            timedelta(minutes=5),
            [at("2025-03-10 09:00"), at("2025-03-11 09:00"), at("2025-03-12 09:00")],
            id="daily",
        ),
        pytest.param(
            "30 18 * * 1",  # Mondays 18:30 in Moscow (UTC+3) = 15:30Z
            "Europe/Moscow",
            at("2025-03-09 00:00"),
            at("2025-03-30 23:30"),
            timedelta(minutes=30),
            [at("2025-03-10 15:30"), at("2025-03-17 15:30"), at("2025-03-24 15:30")],
            id="weekly",
        ),
        pytest.param(
            "*/5 * * * *",
            "UTC",
            at("2025-03-10 12:01"),
            at("2025-03-10 13:00"),
            MINUTE,
            every(at("2025-03-10 12:05"), at("2025-03-10 13:00"), timedelta(minutes=5)),
            id="every-5-minutes",
        ),
    ],
)
def test_tick_cron_fires_each_occurrence_once_at_its_moment(
    svc: Service,
    store: PostgresStore,
    cron: str,
    timezone: str,
    start: datetime,
    end: datetime,
    step: timedelta,
    expected: list[datetime],
) -> None:
    users = [make_user() for _ in range(3)]
    store.upsert_users(users)
    schedule_id = svc.schedule(users, now=start, schedule=cron, timezone=timezone)

    sent = svc.tick_through(every(start, end, step))

    assert sent == dict.fromkeys(expected, 1)
    assert svc.sent_moments(schedule_id) == expected
    assert [o.created_dt for o in svc.occurrences(schedule_id)] == expected
    assert len(svc.messages()) == len(expected)
    assert all({u.user_id for u in m.payload.user} == {u.user_id for u in users} for m in svc.messages())
    svc.assert_each_recipient_once()
    row = svc.schedule_row(schedule_id)
    assert (row["state"], row["runs"], row["skipped_runs"], row["last_run_at"]) == (
        "active",
        len(expected),
        0,
        expected[-1],
    )
    assert row["next_run_at"] == next_run(cron, timezone, expected[-1])


def test_tick_occurrence_is_an_event_created_at_its_due_time_enriched_when_it_runs(
    svc: Service, store: PostgresStore
) -> None:
    alice = make_user(email=True, phone=False, push=False)
    late_comer = make_user(phone=False, push=False)  # not in the directory when the schedule is made
    movie = make_movie("Old Title")
    store.upsert_users([alice])
    store.upsert_movies([movie])

    answer = svc.post(
        event_body(
            [alice.user_id, late_comer.user_id], PROMO, content=[movie.movie_id], schedule="0 9 * * *"
        ),
        now=at("2025-03-10 08:00"),
    )
    assert (answer.status, answer.recipients, answer.skipped_users) == (
        "scheduled",
        1,
        [str(late_comer.user_id)],
    )
    assert answer.next_run_at == at("2025-03-10 09:00")
    assert answer.schedule_id is not None

    svc.tick(at("2025-03-10 09:00"))
    store.upsert_users([alice.model_copy(update={"email": "alice.new@example.test"}), late_comer])
    store.upsert_movies([movie.model_copy(update={"title": "New Title"})])
    svc.tick(at("2025-03-11 09:00"))

    first, second = svc.occurrences(answer.schedule_id)
    assert (first.created_dt, first.recipients, first.notifications, first.skipped_users) == (
        at("2025-03-10 09:00"),
        1,
        1,
        [str(late_comer.user_id)],
    )
    assert (second.created_dt, second.recipients, second.notifications, second.skipped_users) == (
        at("2025-03-11 09:00"),
        2,
        2,
        [],
    )
    by_event = {m.event_id: m for m in svc.messages()}
    assert set(by_event) == {first.event_id, second.event_id}
    before, after = by_event[first.event_id], by_event[second.event_id]
    assert (before.created_dt, after.created_dt) == (at("2025-03-10 09:00"), at("2025-03-11 09:00"))
    assert {(u.user_id, u.email) for u in before.payload.user} == {(alice.user_id, alice.email)}
    assert {(u.user_id, u.email) for u in after.payload.user} == {
        (alice.user_id, "alice.new@example.test"),
        (late_comer.user_id, late_comer.email),
    }
    assert [c.title for c in before.payload.content] == ["Old Title"]
    assert [c.title for c in after.payload.content] == ["New Title"]
    assert before.event_type == after.event_type == PROMO


def test_tick_occurrence_fans_out_per_channel_in_chunks_to_the_tier_queues(
    svc: Service, store: PostgresStore
) -> None:
    everything = [make_user() for _ in range(3)]
    email_only = [make_user(phone=False, push=False) for _ in range(2)]
    no_contact = make_user(email=False, phone=False, push=False)
    stranger = str(uuid.uuid4())
    store.upsert_users([*everything, *email_only, no_contact])
    requested = [u.user_id for u in [*everything, *email_only, no_contact]]
    now = at("2025-03-10 09:00")
    schedule_id = svc.schedule(
        [*requested, stranger],
        now=now - timedelta(hours=1),
        schedule="0 9 * * *",
        event_type=EventType.NEW_EPISODE,
        priority=8,
    )

    report = svc.tick(now, chunk_size=2)

    assert report.occurrences_sent == 1
    (occurrence,) = svc.occurrences(schedule_id)
    assert (occurrence.recipients, occurrence.notifications, occurrence.skipped_users) == (5, 11, [stranger])
    by_channel: dict[str, list[list[uuid.UUID]]] = {}
    for outbound, message in zip(svc.publisher.published, svc.messages(), strict=True):
        assert outbound.queue == f"notify-{message.transport_type}-high"
        assert (message.event_id, message.priority, message.event_type) == (
            occurrence.event_id,
            8,
            EventType.NEW_EPISODE,
        )
        by_channel.setdefault(message.transport_type, []).append([u.user_id for u in message.payload.user])
    reachable = {
        "email": sorted(u.user_id for u in [*everything, *email_only]),
        "sms": sorted(u.user_id for u in everything),
        "push": sorted(u.user_id for u in everything),
    }
    for channel, ids in reachable.items():
        assert sorted(by_channel[channel]) == [ids[i : i + 2] for i in range(0, len(ids), 2)], channel
    svc.assert_each_recipient_once()


# ---- time zones and daylight saving ------------------------------------------------------------


@pytest.mark.parametrize(
    ("timezone", "night_cron", "start", "end", "night", "morning"),
    [
        pytest.param(
            "Europe/Berlin",  # 2025-03-30 02:00 CET -> 03:00 CEST: 02:30 does not exist that night
            "30 2 * * *",
            at("2025-03-29 00:00"),
            at("2025-03-31 12:00"),
            ["2025-03-29 01:30", "2025-03-30 01:00", "2025-03-31 00:30"],
            ["2025-03-29 08:00", "2025-03-30 07:00", "2025-03-31 07:00"],
            id="berlin-spring",
        ),
        pytest.param(
            "Europe/Berlin",  # 2025-10-26 03:00 CEST -> 02:00 CET: 02:30 happens twice, runs once
            "30 2 * * *",
            at("2025-10-25 00:00"),
            at("2025-10-27 12:00"),
            ["2025-10-25 00:30", "2025-10-26 00:30", "2025-10-27 01:30"],
            ["2025-10-25 07:00", "2025-10-26 08:00", "2025-10-27 08:00"],
            id="berlin-autumn",
        ),
        pytest.param(
            "America/New_York",  # 2025-03-09 02:00 EST -> 03:00 EDT
            "30 2 * * *",
            at("2025-03-08 00:00"),
            at("2025-03-10 18:00"),
            ["2025-03-08 07:30", "2025-03-09 07:00", "2025-03-10 06:30"],
            ["2025-03-08 14:00", "2025-03-09 13:00", "2025-03-10 13:00"],
            id="new-york-spring",
        ),
        pytest.param(
            "America/New_York",  # 2025-11-02 02:00 EDT -> 01:00 EST: 01:30 happens twice, runs once
            "30 1 * * *",
            at("2025-11-01 00:00"),
            at("2025-11-03 18:00"),
            ["2025-11-01 05:30", "2025-11-02 05:30", "2025-11-03 06:30"],
            ["2025-11-01 13:00", "2025-11-02 14:00", "2025-11-03 14:00"],
            id="new-york-autumn",
        ),
    ],
)
def test_tick_timezone_cron_across_a_dst_change(
    svc: Service,
    store: PostgresStore,
    timezone: str,
    night_cron: str,
    start: datetime,
    end: datetime,
    night: list[str],
    morning: list[str],
) -> None:
    user = make_user()
    store.upsert_users([user])
    night_id = svc.schedule([user], now=start, schedule=night_cron, timezone=timezone)
    morning_id = svc.schedule([user], now=start, schedule="0 9 * * *", timezone=timezone)
    half_hourly_id = svc.schedule([user], now=start, schedule="*/30 * * * *", timezone=timezone)

    svc.tick_through(every(start, end, timedelta(minutes=15)))

    assert svc.sent_moments(night_id) == [at(t) for t in night]
    assert svc.sent_moments(morning_id) == [at(t) for t in morning]
    # Hour field `*`: every 30 minutes of real time, through the skipped or repeated hour.
    assert svc.sent_moments(half_hourly_id) == every(start, end, timedelta(minutes=30))
    svc.assert_each_recipient_once()


# ---- exactly once ------------------------------------------------------------------------------


def _tick_in_worker(dsn: str, now: datetime, start_at: float) -> tuple[int, list[bytes]]:
    """One tick on its own connections, started at `start_at` (time.time()) with its rivals."""
    store = PostgresStore(dsn, max_connections=2)
    publisher = FakePublisher()
    try:
        store.check()  # connected before the start line
        time.sleep(max(0.0, start_at - time.time()))
        report = run_tick(
            now=now,
            schedules=store,
            waiting=store,
            outbox=store,
            publisher=publisher,
            policy=tick_policy(outbox_grace_s=GRACE_S, batch_size=4),
        )
    finally:
        store.close()
    return report.occurrences_sent, [message.body for message in publisher.published]


@pytest.mark.parametrize("runner", ["threads", "processes"])
def test_tick_overlapping_ticks_send_each_occurrence_once(
    svc: Service, store: PostgresStore, pg_dsn: str, runner: str
) -> None:
    users = [make_user() for _ in range(3)]
    store.upsert_users(users)
    start = at("2025-03-10 12:00")
    schedule_ids = [svc.schedule(users, now=start, schedule="*/5 * * * *") for _ in range(30)]
    moments = every(start, start + timedelta(minutes=10), timedelta(minutes=5))
    pool: Executor = (
        ThreadPoolExecutor(2)
        if runner == "threads"
        else ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    )

    sent: list[int] = []
    bodies: list[bytes] = []
    with pool:
        for moment in moments:
            start_at = time.time() + (0.3 if runner == "threads" else 3.0)
            rivals = [pool.submit(_tick_in_worker, pg_dsn, moment, start_at) for _ in range(2)]
            for rival in rivals:
                count, published = rival.result(timeout=120)
                sent.append(count)
                bodies.extend(published)

    assert sum(sent) == len(schedule_ids) * len(moments)
    messages = [NotificationMessage.model_validate_json(body) for body in bodies]
    assert len(messages) == len(schedule_ids) * len(moments)
    assert Counter(m.created_dt for m in messages) == dict.fromkeys(moments, len(schedule_ids))
    recipients = Counter((m.event_id, u.user_id) for m in messages for u in m.payload.user)
    assert set(recipients.values()) == {1}
    assert len(recipients) == len(schedule_ids) * len(moments) * len(users)
    for schedule_id in schedule_ids:
        assert [o.created_dt for o in svc.occurrences(schedule_id)] == moments


def test_tick_overlapping_a_tick_that_holds_its_claim_skips_those_schedules(
    svc: Service, store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user() for _ in range(2)]
    store.upsert_users(users)
    now = at("2025-03-10 12:00")
    schedule_ids = [svc.schedule(users, now=now, schedule="*/5 * * * *") for _ in range(5)]
    holder, first_publisher = HoldingStore(pg_dsn), FakePublisher()

    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(
                run_tick,
                now=now,
                schedules=holder,
                waiting=holder,
                outbox=holder,
                publisher=first_publisher,
                policy=tick_policy(outbox_grace_s=GRACE_S),
            )
            assert holder.claimed.wait(30)
            # Runs while the first tick holds the rows: it must skip them, not wait for them.
            second = pool.submit(svc.tick, now).result(timeout=10)
            holder.release.set()
            first_report = first.result(timeout=30)
    finally:
        holder.release.set()
        holder.close()
    retried = svc.tick(now)

    assert (first_report.occurrences_sent, second.occurrences_sent, retried.occurrences_sent) == (5, 0, 0)
    assert svc.publisher.published == []
    assert len(first_publisher.published) == 5
    assert {m.created_dt for m in parse(first_publisher.published)} == {now}
    for schedule_id in schedule_ids:
        assert [o.created_dt for o in svc.occurrences(schedule_id)] == [now]


def test_tick_retried_with_the_same_now_sends_nothing_new(svc: Service, store: PostgresStore) -> None:
    users = [make_user() for _ in range(2)]
    store.upsert_users(users)
    now = at("2025-03-10 09:00")
    schedule_id = svc.schedule(users, now=now - timedelta(hours=1), schedule="0 9 * * *")

    first = svc.tick(now)
    counts = table_counts(svc.dsn)
    retried = svc.tick(now)

    assert (first.occurrences_sent, retried.occurrences_sent, retried.republished) == (1, 0, 0)
    assert table_counts(svc.dsn) == counts
    assert len(svc.messages()) == 1
    assert svc.sent_moments(schedule_id) == [now]
    assert svc.schedule_row(schedule_id)["runs"] == 1


def test_tick_occurrence_key_refuses_an_occurrence_already_stored(svc: Service, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    now = at("2025-03-10 09:00")
    schedule_id = svc.schedule([user], now=now - timedelta(hours=1), schedule="0 9 * * *")
    svc.tick(now)
    counts = table_counts(svc.dsn)
    # The schedule's move forward is lost (say, a stale write): 09:00 is due again.
    with psycopg.connect(svc.dsn) as conn:
        conn.execute("UPDATE schedules SET next_run_at = %s WHERE schedule_id = %s", (now, schedule_id))

    again = svc.tick(now + MINUTE)

    assert again.occurrences_sent == 0
    assert table_counts(svc.dsn) == counts
    assert [m.created_dt for m in svc.messages()] == [now]
    assert svc.schedule_row(schedule_id)["next_run_at"] == at("2025-03-11 09:00")


def test_tick_retried_after_a_crash_mid_transaction_sends_once(svc: Service, store: PostgresStore) -> None:
    users = [make_user() for _ in range(2)]
    store.upsert_users(users)
    now = at("2025-03-10 09:00")
    schedule_id = svc.schedule(users, now=now - timedelta(hours=1), schedule="0 9 * * *")
    counts = table_counts(svc.dsn)

    # The tick dies after its occurrence's rows are written, as it moves the schedule on.
    with crash_on_schedule_update(svc.dsn), pytest.raises(TickIncomplete, match="schedules") as crashed:
        svc.tick(now)
    assert isinstance(crashed.value.__cause__, psycopg.errors.RaiseException)
    assert table_counts(svc.dsn) == counts
    assert svc.publisher.published == []
    assert svc.schedule_row(schedule_id)["next_run_at"] == now

    retried = svc.tick(now)
    again = svc.tick(now)

    assert (retried.occurrences_sent, again.occurrences_sent) == (1, 0)
    assert svc.sent_moments(schedule_id) == [now]
    assert len(svc.messages()) == 1
    svc.assert_each_recipient_once()


# ---- missed ticks and lateness -----------------------------------------------------------------


def test_tick_missed_ticks_send_the_latest_missed_occurrence_once(svc: Service, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    start = at("2025-03-10 12:00")
    schedule_id = svc.schedule([user], now=start, schedule="*/5 * * * *")

    first = svc.tick(start)
    # No tick from 12:01 to 12:22: 12:05, 12:10, 12:15 and 12:20 were missed.
    caught_up = svc.tick(at("2025-03-10 12:23"))
    row_after_catch_up = svc.schedule_row(schedule_id)
    svc.tick_through(every(at("2025-03-10 12:24"), at("2025-03-10 12:30"), MINUTE))

    assert (first.occurrences_sent, caught_up.occurrences_sent, caught_up.occurrences_skipped_late) == (
        1,
        1,
        0,
    )
    assert row_after_catch_up["next_run_at"] == at("2025-03-10 12:25")
    stored = [o.created_dt for o in svc.occurrences(schedule_id)]
    assert stored == [start, at("2025-03-10 12:20"), at("2025-03-10 12:25"), at("2025-03-10 12:30")]
    assert sorted(m.created_dt for m in svc.messages()) == stored
    assert svc.published_at[svc.occurrences(schedule_id)[1].event_id] == at("2025-03-10 12:23")
    svc.assert_each_recipient_once()


def test_tick_missed_daily_occurrence_within_the_limit_is_sent_late_once(
    svc: Service, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    schedule_id = svc.schedule([user], now=at("2025-03-10 08:00"), schedule="0 9 * * *")

    sent = svc.tick_through(every(at("2025-03-10 09:40"), at("2025-03-10 10:30"), timedelta(minutes=10)))

    assert sent == {at("2025-03-10 09:40"): 1}
    assert [o.created_dt for o in svc.occurrences(schedule_id)] == [at("2025-03-10 09:00")]
    assert [m.created_dt for m in svc.messages()] == [at("2025-03-10 09:00")]
    assert svc.schedule_row(schedule_id)["next_run_at"] == at("2025-03-11 09:00")


def test_tick_occurrence_older_than_the_limit_is_skipped_and_counted(
    svc: Service, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    schedule_id = svc.schedule([user], now=at("2025-03-10 08:00"), schedule="0 9 * * *")

    late = svc.tick(at("2025-03-10 10:30"))  # 90 minutes after 09:00, the default limit is 1 hour
    row = svc.schedule_row(schedule_id)
    next_day = svc.tick(at("2025-03-11 09:00"))

    assert (late.occurrences_sent, late.occurrences_skipped_late) == (0, 1)
    assert (row["runs"], row["skipped_runs"], row["last_run_at"], row["next_run_at"]) == (
        0,
        1,
        None,
        at("2025-03-11 09:00"),
    )
    assert (next_day.occurrences_sent, next_day.occurrences_skipped_late) == (1, 0)
    assert [o.created_dt for o in svc.occurrences(schedule_id)] == [at("2025-03-11 09:00")]
    assert [m.created_dt for m in svc.messages()] == [at("2025-03-11 09:00")]
    final = svc.schedule_row(schedule_id)
    assert (final["runs"], final["skipped_runs"]) == (1, 1)


def test_tick_lateness_limit_is_configurable(svc: Service, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    schedule_id = svc.schedule([user], now=at("2025-03-10 08:00"), schedule="0 9 * * *")

    strict = svc.tick(at("2025-03-10 09:15"), max_lateness=timedelta(minutes=10))
    lenient = svc.tick(at("2025-03-11 09:15"), max_lateness=timedelta(minutes=20))

    assert (strict.occurrences_sent, strict.occurrences_skipped_late) == (0, 1)
    assert (lenient.occurrences_sent, lenient.occurrences_skipped_late) == (1, 0)
    assert [m.created_dt for m in svc.messages()] == [at("2025-03-11 09:00")]
    row = svc.schedule_row(schedule_id)
    assert (row["runs"], row["skipped_runs"]) == (1, 1)


# ---- one-shot delayed sends --------------------------------------------------------------------


def test_one_shot_start_dt_is_scheduled_sent_once_then_done(
    api: Api, svc: Service, store: PostgresStore
) -> None:
    known = make_user(phone=False, push=False)
    late_comer = make_user(phone=False, push=False)
    store.upsert_users([known])
    now, start = at("2025-03-10 08:00"), at("2025-03-10 10:00")

    answer = svc.post(
        event_body([known.user_id, late_comer.user_id], PROMO, start_dt=start.isoformat()), now=now
    )

    assert (answer.status, answer.next_run_at, answer.recipients, answer.notifications) == (
        "scheduled",
        start,
        1,
        0,
    )
    assert answer.skipped_users == [str(late_comer.user_id)]
    assert answer.schedule_id is not None
    active = api.get("/schedules", query={"state": "active"})
    assert [item["schedule_id"] for item in active.json["items"]] == [str(answer.schedule_id)]
    assert active.json["items"][0]["cron"] is None
    assert svc.publisher.published == []

    store.upsert_users([late_comer])
    sent = svc.tick_through(every(now, start + timedelta(hours=3), timedelta(minutes=15)))

    assert sent == {start: 1}
    assert svc.sent_moments(answer.schedule_id) == [start]
    (message,) = svc.messages()
    assert {u.user_id for u in message.payload.user} == {known.user_id, late_comer.user_id}
    row = svc.schedule_row(answer.schedule_id)
    assert (row["state"], row["next_run_at"], row["last_run_at"], row["runs"]) == ("done", None, start, 1)
    assert api.get("/schedules", query={"state": "active"}).json["items"] == []
    done = api.get("/schedules", query={"state": "done"}).json["items"]
    assert [item["schedule_id"] for item in done] == [str(answer.schedule_id)]
    view = api.get(f"/schedules/{answer.schedule_id}").json
    assert view["next_runs"] == []
    assert datetime.fromisoformat(view["last_run"]["created_dt"]) == start


def test_one_shot_too_late_is_skipped_counted_and_done(svc: Service, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    answer = svc.post(
        event_body([user.user_id], PROMO, start_dt="2025-03-10T10:00:00+00:00"), now=at("2025-03-10 08:00")
    )
    assert answer.schedule_id is not None

    report = svc.tick(at("2025-03-10 11:30"))
    later = svc.tick(at("2025-03-10 12:00"))

    assert (report.occurrences_sent, report.occurrences_skipped_late, later.occurrences_skipped_late) == (
        0,
        1,
        0,
    )
    row = svc.schedule_row(answer.schedule_id)
    assert (row["state"], row["next_run_at"], row["runs"], row["skipped_runs"]) == ("done", None, 0, 1)
    assert svc.publisher.published == []
    assert svc.occurrences(answer.schedule_id) == []


# ---- pause, resume, change, cancel -------------------------------------------------------------


def test_pause_stops_sends_and_resume_continues_from_now_without_a_backlog(
    svc: Service, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    start = at("2025-03-10 12:00")
    schedule_id = svc.schedule([user], now=start, schedule="*/5 * * * *")
    svc.tick(start)

    paused = change_schedule(
        schedule_id, SchedulePatch(state="paused"), now=start + 2 * MINUTE, schedules=store
    )
    while_paused = svc.tick_through(every(start + 3 * MINUTE, start + 31 * MINUTE, MINUTE))
    resumed = change_schedule(
        schedule_id,
        SchedulePatch(state="active"),
        now=start + 31 * MINUTE + timedelta(seconds=20),
        schedules=store,
    )
    after = svc.tick_through(every(start + 32 * MINUTE, start + 45 * MINUTE, MINUTE))

    assert (paused.state, paused.next_runs) == ("paused", [])
    assert while_paused == {}
    assert (resumed.state, resumed.next_run_at) == ("active", at("2025-03-10 12:35"))
    assert resumed.next_runs[:3] == [at("2025-03-10 12:35"), at("2025-03-10 12:40"), at("2025-03-10 12:45")]
    assert after == {at("2025-03-10 12:35"): 1, at("2025-03-10 12:40"): 1, at("2025-03-10 12:45"): 1}
    assert svc.sent_moments(schedule_id) == [
        start,
        at("2025-03-10 12:35"),
        at("2025-03-10 12:40"),
        at("2025-03-10 12:45"),
    ]
    assert svc.schedule_row(schedule_id)["skipped_runs"] == 0


def test_change_cron_or_timezone_recomputes_the_next_run(svc: Service, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    schedule_id = svc.schedule([user], now=at("2025-03-10 08:00"), schedule="0 9 * * *")  # a Monday
    svc.tick(at("2025-03-10 09:00"))
    assert svc.schedule_row(schedule_id)["next_run_at"] == at("2025-03-11 09:00")

    weekly = change_schedule(
        schedule_id, SchedulePatch(cron="30 18 * * 1"), now=at("2025-03-10 10:00"), schedules=store
    )
    assert (weekly.cron, weekly.timezone, weekly.next_run_at) == (
        "30 18 * * 1",
        "UTC",
        at("2025-03-10 18:30"),
    )
    assert weekly.next_runs == [at(f"2025-{d} 18:30") for d in ("03-10", "03-17", "03-24", "03-31", "04-07")]

    # 18:30 in Tokyo (UTC+9) on Mondays is 09:30Z; this Monday's has passed.
    tokyo = change_schedule(
        schedule_id, SchedulePatch(timezone="Asia/Tokyo"), now=at("2025-03-10 10:00"), schedules=store
    )
    assert (tokyo.cron, tokyo.timezone, tokyo.next_run_at) == (
        "30 18 * * 1",
        "Asia/Tokyo",
        at("2025-03-17 09:30"),
    )
    assert svc.schedule_row(schedule_id)["next_run_at"] == at("2025-03-17 09:30")

    sent = svc.tick_through(every(at("2025-03-10 10:00"), at("2025-03-17 12:00"), timedelta(minutes=30)))

    assert sent == {at("2025-03-17 09:30"): 1}
    assert svc.sent_moments(schedule_id) == [at("2025-03-10 09:00"), at("2025-03-17 09:30")]


def test_change_schedule_unknown_done_or_cancelled(svc: Service, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    now = at("2025-03-10 08:00")
    one_shot = svc.post(event_body([user.user_id], PROMO, start_dt="2025-03-10T09:00:00+00:00"), now=now)
    assert one_shot.schedule_id is not None
    cancelled = svc.schedule([user], now=now, schedule="0 9 * * *")
    svc.tick(at("2025-03-10 09:00"))  # the one-shot is done; the other runs once
    store.cancel_schedule(cancelled)

    with pytest.raises(StateConflict, match="done"):
        change_schedule(one_shot.schedule_id, SchedulePatch(state="active"), now=now, schedules=store)
    with pytest.raises(StateConflict, match="cancelled"):
        change_schedule(cancelled, SchedulePatch(state="active"), now=now, schedules=store)
    with pytest.raises(NotFound):
        change_schedule(uuid.uuid4(), SchedulePatch(state="paused"), now=now, schedules=store)
    assert svc.schedule_row(cancelled)["state"] == "cancelled"
    assert svc.tick_through(every(at("2025-03-10 09:01"), at("2025-03-12 10:00"), timedelta(hours=1))) == {}


def test_change_schedule_racing_a_cancel_does_not_revive_it(svc: Service, store: PostgresStore) -> None:
    """A PATCH that read the schedule just before a DELETE committed must not make it active again."""
    user = make_user()
    store.upsert_users([user])
    now = at("2025-03-10 08:00")
    schedule_id = svc.schedule([user], now=now, schedule="0 9 * * *")

    class CancelledMeanwhile(PostgresStore):
        def get_schedule(self, schedule_id: uuid.UUID) -> Any:
            view = super().get_schedule(schedule_id)
            self.cancel_schedule(schedule_id)  # the DELETE lands between the PATCH's read and write
            return view

    racing = CancelledMeanwhile(svc.dsn, max_connections=2)
    try:
        with pytest.raises(StateConflict, match="cancelled"):
            change_schedule(schedule_id, SchedulePatch(cron="*/5 * * * *"), now=now, schedules=racing)
    finally:
        racing.close()

    row = svc.schedule_row(schedule_id)
    assert (row["state"], row["next_run_at"]) == ("cancelled", None)
    assert svc.tick_through(every(now, at("2025-03-10 10:00"), timedelta(minutes=5))) == {}
    assert svc.publisher.published == []


def test_delete_schedule_cancels_an_occurrence_stored_but_not_yet_published(
    api: Api, svc: Service, store: PostgresStore
) -> None:
    doomed_users = [make_user(phone=False, push=False) for _ in range(2)]
    kept_user = make_user(phone=False, push=False)
    store.upsert_users([*doomed_users, kept_user])
    now = at("2025-03-10 08:00")
    doomed = svc.schedule(doomed_users, now=now, schedule="0 9 * * *")
    kept = svc.schedule([kept_user], now=now, schedule="0 9 * * *")

    svc.publisher.down = True
    outage = svc.tick(at("2025-03-10 09:00"))
    date_outbox(svc.dsn, at("2025-03-10 09:00"))
    assert (outage.occurrences_sent, outage.republished) == (2, 0)
    assert svc.publisher.published == []

    deleted = api.request("DELETE", f"/schedules/{doomed}")
    assert (deleted.status, deleted.text) == (204, "")

    svc.publisher.down = False
    recovered = svc.tick(at("2025-03-10 09:01"))
    assert (recovered.occurrences_sent, recovered.republished) == (0, 2)
    sender = deliver_all(store, svc.publisher.published, at("2025-03-10 09:02"))

    assert [address for address, _ in sender.sent] == [kept_user.email]
    assert notification_statuses(svc.dsn, doomed) == {("cancelled", "schedule_cancelled"): 2}
    assert notification_statuses(svc.dsn, kept) == {("sent", None): 1}
    later = svc.tick_through(every(at("2025-03-10 09:02"), at("2025-03-12 10:00"), timedelta(hours=1)))
    assert later == {at("2025-03-11 09:02"): 1, at("2025-03-12 09:02"): 1}  # the kept one, late but in limit
    assert [o.created_dt for o in svc.occurrences(doomed)] == [at("2025-03-10 09:00")]
    view = api.get(f"/schedules/{doomed}").json
    assert (view["state"], view["next_run_at"], view["next_runs"]) == ("cancelled", None, [])


def test_delete_schedule_while_a_tick_holds_its_claim_sends_nothing(
    api: Api, svc: Service, store: PostgresStore, pg_dsn: str
) -> None:
    doomed_users = [make_user(phone=False, push=False) for _ in range(2)]
    kept_user = make_user(phone=False, push=False)
    store.upsert_users([*doomed_users, kept_user])
    now = at("2025-03-10 09:00")
    doomed = svc.schedule(doomed_users, now=now - timedelta(hours=1), schedule="0 9 * * *")
    svc.schedule([kept_user], now=now - timedelta(hours=1), schedule="0 9 * * *")
    holder, tick_publisher = HoldingStore(pg_dsn), FakePublisher()

    try:
        with ThreadPoolExecutor(2) as pool:
            tick = pool.submit(
                run_tick,
                now=now,
                schedules=holder,
                waiting=holder,
                outbox=holder,
                publisher=tick_publisher,
                policy=tick_policy(outbox_grace_s=GRACE_S),
            )
            assert holder.claimed.wait(30)
            delete = pool.submit(api.request, "DELETE", f"/schedules/{doomed}")
            with pytest.raises(FutureTimeout):
                delete.result(timeout=0.5)  # it waits for the tick's row lock
            holder.release.set()
            report = tick.result(timeout=30)
            deleted = delete.result(timeout=30)
    finally:
        holder.release.set()
        holder.close()

    assert deleted.status == 204
    assert (report.occurrences_sent, len(tick_publisher.published)) == (2, 2)
    sender = deliver_all(store, tick_publisher.published, now)
    assert [address for address, _ in sender.sent] == [kept_user.email]
    assert notification_statuses(svc.dsn, doomed) == {("cancelled", "schedule_cancelled"): 2}
    assert svc.tick_through(every(now, now + timedelta(days=2), timedelta(hours=1))) == {
        now + timedelta(days=1): 1,
        now + timedelta(days=2): 1,
    }


# ---- idempotent replay -------------------------------------------------------------------------


def test_post_scheduled_replay_answers_the_first_next_run_after_ticks_moved_it(
    svc: Service, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    body = event_body([user.user_id], PROMO, schedule="*/5 * * * *")
    first = svc.post(body, now=at("2025-03-10 12:01"), key="every-five")
    svc.tick_through(every(at("2025-03-10 12:05"), at("2025-03-10 12:20"), MINUTE))
    counts = table_counts(svc.dsn)

    replay = svc.post(body, now=at("2025-03-10 12:21"), key="every-five")

    assert first.next_run_at == at("2025-03-10 12:05")
    assert replay == first
    assert table_counts(svc.dsn) == counts
    assert counts["schedules"] == 1
    assert first.schedule_id is not None
    assert svc.schedule_row(first.schedule_id)["next_run_at"] == at("2025-03-10 12:25")


# ---- the HTTP API ------------------------------------------------------------------------------


def test_post_events_bad_cron_is_422_naming_schedule_and_stores_nothing(
    api: Api, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])

    four = api.post("/events", event_body([user.user_id], PROMO, schedule="0 9 * *"))
    out_of_range = api.post("/events", event_body([user.user_id], PROMO, schedule="0 25 * * *"))

    assert (four.status, out_of_range.status) == (422, 422)
    assert four.json["errors"] == [
        {"loc": ["body", "schedule"], "msg": "must have 5 fields (minute hour day month weekday), got 4"}
    ]
    (problem,) = out_of_range.json["errors"]
    assert problem["loc"] == ["body", "schedule"]
    assert problem["msg"].startswith("is not a valid cron expression")
    assert {k: v for k, v in table_counts(api.dsn).items() if k != "directory_users"} == dict.fromkeys(
        ("events", "notifications", "outbox", "schedules", "directory_movies"), 0
    )


def test_get_schedules_pages_with_limit_and_cursor_and_filters(
    api: Api, svc: Service, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    now = at("2025-03-10 08:00")
    episodes = [
        svc.schedule([user], now=now, schedule="0 9 * * *", event_type=EventType.NEW_EPISODE)
        for _ in range(5)
    ]
    liked = [
        svc.schedule([user], now=now, schedule="*/5 * * * *", event_type=EventType.COMMENT_LIKED)
        for _ in range(2)
    ]
    for schedule_id in episodes[:2]:
        change_schedule(schedule_id, SchedulePatch(state="paused"), now=now, schedules=store)

    seen: list[str] = []
    pages: list[int] = []
    cursor: str | None = None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = api.get("/schedules", query=query)
        assert page.status == 200, page.text
        pages.append(len(page.json["items"]))
        seen.extend(item["schedule_id"] for item in page.json["items"])
        cursor = page.json["next_cursor"]
        if cursor is None:
            break

    assert pages == [3, 3, 1]
    assert seen == sorted(str(s) for s in episodes + liked)

    def ids(**query: str) -> set[str]:
        answer = api.get("/schedules", query=query)
        assert answer.status == 200, answer.text
        return {item["schedule_id"] for item in answer.json["items"]}

    assert ids(event_type="comment_liked") == {str(s) for s in liked}
    assert ids(state="paused") == {str(s) for s in episodes[:2]}
    assert ids(state="active", event_type="new_episode") == {str(s) for s in episodes[2:]}
    assert ids(state="done") == set()
    default = api.get("/schedules").json
    assert (len(default["items"]), default["next_cursor"]) == (7, None)
    item = next(i for i in default["items"] if i["schedule_id"] == str(liked[0]))
    assert (item["event_type"], item["cron"], item["state"], item["users"], item["runs"]) == (
        "comment_liked",
        "*/5 * * * *",
        "active",
        1,
        0,
    )
    for query in ({"state": "bogus"}, {"event_type": "birthday"}, {"limit": "0"}, {"cursor": "%%%"}):
        assert api.get("/schedules", query=query).status == 422, query


def test_get_schedule_shows_next_runs_and_last_run(api: Api, svc: Service, store: PostgresStore) -> None:
    users = [make_user() for _ in range(2)]
    store.upsert_users(users)
    schedule_id = svc.schedule(users, now=at("2025-03-10 08:00"), schedule="0 9 * * *")

    before = api.get(f"/schedules/{schedule_id}")
    svc.tick(at("2025-03-10 09:00"))
    after = api.get(f"/schedules/{schedule_id}")

    assert before.status == after.status == 200
    assert [datetime.fromisoformat(t) for t in before.json["next_runs"]] == [
        at(f"2025-03-{day} 09:00") for day in range(10, 15)
    ]
    assert (before.json["last_run"], before.json["runs"], before.json["users"]) == (None, 0, 2)
    assert [datetime.fromisoformat(t) for t in after.json["next_runs"]] == [
        at(f"2025-03-{day} 09:00") for day in range(11, 16)
    ]
    (occurrence,) = svc.occurrences(schedule_id)
    last_run = after.json["last_run"]
    assert (last_run["event_id"], datetime.fromisoformat(last_run["created_dt"])) == (
        str(occurrence.event_id),
        at("2025-03-10 09:00"),
    )
    assert (last_run["recipients"], last_run["notifications"]) == (2, 2)
    assert (after.json["runs"], datetime.fromisoformat(after.json["last_run_at"])) == (
        1,
        at("2025-03-10 09:00"),
    )
    assert api.get(f"/schedules/{uuid.uuid4()}").status == 404
    assert api.get("/schedules/not-a-uuid").status == 422


def test_patch_schedule_statuses(api: Api, svc: Service, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    now = at("2025-03-10 08:00")
    schedule_id = svc.schedule([user], now=now, schedule="0 9 * * *")
    one_shot = svc.post(event_body([user.user_id], PROMO, start_dt="2025-03-10T09:00:00+00:00"), now=now)
    cancelled = svc.schedule([user], now=now, schedule="0 9 * * *")
    svc.tick(at("2025-03-10 09:00"))
    assert api.request("DELETE", f"/schedules/{cancelled}").status == 204

    paused = api.request("PATCH", f"/schedules/{schedule_id}", json_body={"state": "paused"})
    assert paused.status == 200, paused.text
    assert (paused.json["state"], paused.json["next_runs"]) == ("paused", [])
    before = datetime.now(UTC)  # the route reads the clock itself
    resumed = api.request(
        "PATCH", f"/schedules/{schedule_id}", json_body={"state": "active", "cron": "*/5 * * * *"}
    )
    after = datetime.now(UTC)
    assert resumed.status == 200, resumed.text
    next_run_at = datetime.fromisoformat(resumed.json["next_run_at"])
    assert next_run("*/5 * * * *", "UTC", before) <= next_run_at <= next_run("*/5 * * * *", "UTC", after)
    assert (resumed.json["state"], resumed.json["cron"], len(resumed.json["next_runs"])) == (
        "active",
        "*/5 * * * *",
        5,
    )

    bad_cron = api.request("PATCH", f"/schedules/{schedule_id}", json_body={"cron": "0 9 * *"})
    assert bad_cron.status == 422
    assert bad_cron.json["errors"][0]["loc"] == ["body", "cron"]
    assert "5 fields" in bad_cron.json["errors"][0]["msg"]
    assert (
        api.request("PATCH", f"/schedules/{schedule_id}", json_body={"timezone": "Mars/Base"}).status == 422
    )
    assert api.get(f"/schedules/{schedule_id}").json["cron"] == "*/5 * * * *"

    assert api.request("PATCH", f"/schedules/{uuid.uuid4()}", json_body={"state": "paused"}).status == 404
    for finished in (one_shot.schedule_id, cancelled):
        conflict = api.request("PATCH", f"/schedules/{finished}", json_body={"state": "active"})
        assert conflict.status == 409, conflict.text
    assert svc.schedule_row(cancelled)["state"] == "cancelled"


def test_delete_schedule_is_204_then_nothing_more_is_sent(
    api: Api, svc: Service, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    schedule_id = svc.schedule([user], now=at("2025-03-10 12:00"), schedule="*/5 * * * *")
    svc.tick_through(every(at("2025-03-10 12:00"), at("2025-03-10 12:10"), MINUTE))

    deleted = api.request("DELETE", f"/schedules/{schedule_id}")
    later = svc.tick_through(every(at("2025-03-10 12:11"), at("2025-03-10 13:00"), MINUTE))

    assert (deleted.status, deleted.text) == (204, "")
    assert later == {}
    assert svc.sent_moments(schedule_id) == every(at("2025-03-10 12:00"), at("2025-03-10 12:10"), 5 * MINUTE)
    assert api.request("DELETE", f"/schedules/{uuid.uuid4()}").status == 404
    view = describe_schedule(schedule_id, schedules=store)
    assert (view.state, view.next_run_at, view.runs) == ("cancelled", None, 3)
    assert {i["schedule_id"] for i in api.get("/schedules", query={"state": "cancelled"}).json["items"]} == {
        str(schedule_id)
    }


def test_fire_due_takes_schedules_while_their_users_fit_the_budget_and_a_large_one_alone(
    svc: Service, store: PostgresStore
) -> None:
    users = [make_user() for _ in range(12)]
    store.upsert_users(users)
    now = at("2025-03-10 09:05")
    # due at 09:00, 09:01 and 09:02; the large one at 09:03
    threes = [
        svc.schedule(users[3 * i : 3 * i + 3], now=now - timedelta(hours=1), schedule=f"{i} 9 * * *")
        for i in range(3)
    ]
    large = svc.schedule(users, now=now - timedelta(hours=1), schedule="3 9 * * *")
    claimed: list[list[uuid.UUID]] = []

    def plan(due: list[DueSchedule]) -> list[Firing]:
        claimed.append([d.schedule_id for d in due])
        return []  # nothing is sent or moved on: only what was claimed together matters

    for _ in range(2):
        store.fire_due(now, 100, plan, CHUNK, max_users=5)

    # 3 users, then 3 more starting under the budget of 5; the third three start at 6
    assert claimed[0] == threes[:2]
    assert claimed[1] == threes[:2]  # nothing moved on: the same two again
    claimed.clear()
    store.fire_due(now, 100, plan, CHUNK, max_users=1)
    assert claimed == [threes[:1]]  # the first is taken whatever its size
    with psycopg.connect(svc.dsn, autocommit=True) as conn:  # the three-user ones have run
        conn.execute("UPDATE schedules SET state = 'done' WHERE schedule_id = ANY(%s)", (threes,))
    claimed.clear()
    store.fire_due(now, 100, plan, CHUNK, max_users=5)
    assert claimed == [[large]]  # 12 users, over the budget: alone


def tick_in_steps_of_three(store: PostgresStore, publisher: FakePublisher, now: datetime) -> TickReport:
    """One tick with 30 s left whose transactions (firings, fan-out steps) take at most 3 users."""
    return run_tick(
        now=now,
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        fan_outs=store,
        policy=tick_policy(fan_out_step=3),
        time_left=lambda: 30.0,
    )


def test_tick_spreads_a_minute_of_large_occurrences_over_transactions_of_bounded_size(
    svc: Service, store: PostgresStore, pg_dsn: str
) -> None:
    users = [make_user() for _ in range(8)]
    store.upsert_users(users)
    now = at("2025-03-10 09:00")
    for i in range(4):
        svc.schedule(users[2 * i : 2 * i + 2], now=now - timedelta(hours=1), schedule="0 9 * * *")
    publisher = FakePublisher()

    batches: list[int] = []
    original = store.fire_due

    def counted(*args: Any, **kwargs: Any) -> FiredBatch:
        batch = original(*args, **kwargs)
        batches.append(batch.claimed)
        return batch

    store.fire_due = counted  # type: ignore[method-assign]
    report = tick_in_steps_of_three(store, publisher, now)

    assert report.occurrences_sent == 4
    assert batches == [2, 2, 0]  # 2 + 2 users start under 3 each time; then none is due


def test_an_occurrence_listing_more_users_than_a_step_is_fanned_out_in_steps(
    svc: Service, store: PostgresStore
) -> None:
    users = [make_user() for _ in range(8)]
    store.upsert_users(users)
    unknown = uuid.uuid4()  # listed, not in the directory when it fires: skipped, and stays so
    now = at("2025-03-10 09:00")
    schedule_id = svc.schedule([*users, unknown], now=now - timedelta(hours=1), schedule="0 9 * * *")

    def occurrence_rows() -> int:
        with psycopg.connect(svc.dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(n.*) FROM events e LEFT JOIN notifications n USING (event_id)"
                " WHERE e.schedule_id = %s",
                (schedule_id,),
            ).fetchone()
        assert row is not None
        return int(row[0])

    rows_when_fired: list[int] = []
    steps: list[int] = []
    fire_due, fan_out_step = store.fire_due, store.fan_out_step

    def firing(*args: Any, **kwargs: Any) -> FiredBatch:
        batch = fire_due(*args, **kwargs)
        rows_when_fired.append(occurrence_rows())
        store.upsert_users([make_user(user_id=unknown)])  # the directory learns of them too late
        return batch

    def stepping(*args: Any, **kwargs: Any) -> Any:
        step = fan_out_step(*args, **kwargs)
        if step is not None:
            steps.append(step.members)
        return step

    store.fire_due = firing  # type: ignore[method-assign]
    store.fan_out_step = stepping  # type: ignore[method-assign]
    publisher = FakePublisher()
    report = tick_in_steps_of_three(store, publisher, now)

    assert report.occurrences_sent == 1
    assert rows_when_fired[0] == 0  # the firing stored the event, not its 8 users' rows
    assert steps, "no fan-out step ran"
    assert max(steps) <= 3  # the members of one transaction
    assert sum(steps) == 9  # every listed id walked once, the unknown one included
    messages = parse(publisher.published)
    sent_to = Counter(user.user_id for message in messages for user in message.payload.user)
    assert sent_to == Counter({user.user_id: 1 for user in users})
    assert occurrence_rows() == 8
    view = describe_schedule(schedule_id, schedules=store)
    assert view.runs == 1
    [event_id] = {message.event_id for message in messages}
    event = store.event_view(event_id)
    assert event is not None
    assert (event.recipients, event.skipped_users) == (8, [str(unknown)])
    assert event.fan_out is not None
    assert (event.fan_out.done, event.fan_out.complete) == (8, True)


def test_fire_due_takes_a_list_over_the_budget_with_nothing_after_it(
    svc: Service, store: PostgresStore
) -> None:
    """A list over the budget is fanned out in steps, but its firing still reads the whole list once
    (its counts, its skipped ids): two of them never share a transaction."""
    users = [make_user() for _ in range(12)]
    store.upsert_users(users)
    now = at("2025-03-10 09:05")
    large = [svc.schedule(users, now=now - timedelta(hours=1), schedule=f"{i} 9 * * *") for i in range(2)]
    small = svc.schedule(users[:3], now=now - timedelta(hours=1), schedule="2 9 * * *")
    claimed: list[list[uuid.UUID]] = []

    def plan(due: list[DueSchedule]) -> list[Firing]:
        claimed.append([d.schedule_id for d in due])
        return []

    for expected in (large[0], large[1], small):
        claimed.clear()
        store.fire_due(now, 100, plan, CHUNK, max_users=5)
        assert claimed == [[expected]]
        with psycopg.connect(svc.dsn, autocommit=True) as conn:
            conn.execute("UPDATE schedules SET state = 'done' WHERE schedule_id = %s", (expected,))
