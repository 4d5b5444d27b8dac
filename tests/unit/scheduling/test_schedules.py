"""What the tick decides (plan_firings, pure) and how it walks the due schedules in batches."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notify.channels import Channel, EventType, QueueRouter
from notify.outbox.ports import OutboundMessage
from notify.scheduling.ports import DueSchedule, FiredBatch, Firing
from notify.scheduling.schedules import FireReport, fire_due_schedules, plan_firings
from notify_dev.doubles import FakeOutboxMarks
from tests.fakes import FakePublisher

NOW = datetime(2025, 3, 10, 12, 23, tzinfo=UTC)
HOUR = timedelta(hours=1)


def due(
    *,
    cron: str | None = "*/5 * * * *",
    due_at: datetime = NOW,
    timezone: str = "UTC",
    priority: int = 5,
    event_type: EventType = EventType.NEW_RELEASES_PROMO,
) -> DueSchedule:
    return DueSchedule(uuid.uuid4(), event_type, priority, cron, timezone, due_at)


def plan(*schedules: DueSchedule, now: datetime = NOW, max_lateness: timedelta = HOUR) -> list[Firing]:
    return plan_firings(list(schedules), now=now, max_lateness=max_lateness, router=QueueRouter("p"))


# ---- plan_firings -------------------------------------------------------------------------------


def test_plan_firings_one_shot_sends_its_moment_and_has_no_next_run() -> None:
    start = NOW - timedelta(minutes=3)
    schedule = due(cron=None, due_at=start)
    event_id = uuid.uuid4()

    (firing,) = plan_firings(
        [schedule], now=NOW, max_lateness=HOUR, router=QueueRouter("p"), new_id=lambda: event_id
    )

    assert firing == Firing(
        schedule_id=schedule.schedule_id,
        occurrence_at=start,
        send=True,
        next_run_at=None,
        event_id=event_id,
        queue_by_channel={Channel.EMAIL: "p-email-normal"},
    )


def test_plan_firings_one_shot_too_late_is_skipped_and_done() -> None:
    (firing,) = plan(due(cron=None, due_at=NOW - HOUR - timedelta(seconds=1)))

    assert (firing.send, firing.next_run_at, firing.occurrence_at) == (
        False,
        None,
        NOW - HOUR - timedelta(seconds=1),
    )


def test_plan_firings_on_time_sends_the_due_moment_and_moves_to_the_next() -> None:
    moment = datetime(2025, 3, 10, 12, 20, tzinfo=UTC)

    (firing,) = plan(due(due_at=moment), now=moment)

    assert (firing.occurrence_at, firing.send, firing.next_run_at) == (
        moment,
        True,
        datetime(2025, 3, 10, 12, 25, tzinfo=UTC),
    )


def test_plan_firings_catch_up_sends_only_the_latest_due_moment() -> None:
    # Due since 12:00; the ticks of 12:05 to 12:20 were missed.
    (firing,) = plan(due(due_at=datetime(2025, 3, 10, 12, 0, tzinfo=UTC)))

    assert (firing.occurrence_at, firing.send, firing.next_run_at) == (
        datetime(2025, 3, 10, 12, 20, tzinfo=UTC),
        True,
        datetime(2025, 3, 10, 12, 25, tzinfo=UTC),
    )


def test_plan_firings_catch_up_of_a_daily_cron_in_its_timezone() -> None:
    # 09:00 in Moscow is 06:00Z; missed for three days, only today's is sent.
    schedule = due(cron="0 9 * * *", timezone="Europe/Moscow", due_at=datetime(2025, 3, 7, 6, 0, tzinfo=UTC))

    (firing,) = plan(schedule, now=datetime(2025, 3, 10, 6, 40, tzinfo=UTC))

    assert (firing.occurrence_at, firing.send, firing.next_run_at) == (
        datetime(2025, 3, 10, 6, 0, tzinfo=UTC),
        True,
        datetime(2025, 3, 11, 6, 0, tzinfo=UTC),
    )


def test_plan_firings_catch_up_never_goes_before_the_due_moment() -> None:
    # A schedule whose next run was set by a PATCH to a moment after the cron's latest one.
    due_at = datetime(2025, 3, 10, 12, 21, tzinfo=UTC)

    (firing,) = plan(due(due_at=due_at))

    assert firing.occurrence_at == due_at


@pytest.mark.parametrize(
    ("late_by", "send"),
    [
        (timedelta(0), True),
        (HOUR - timedelta(microseconds=1), True),
        (HOUR, True),
        (HOUR + timedelta(microseconds=1), False),
    ],
)
def test_plan_firings_lateness_boundary(late_by: timedelta, send: bool) -> None:
    moment = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

    (firing,) = plan(due(cron="0 9 * * *", due_at=moment), now=moment + late_by)

    assert (firing.occurrence_at, firing.send, firing.next_run_at) == (
        moment,
        send,
        datetime(2025, 3, 11, 9, 0, tzinfo=UTC),
    )


def test_plan_firings_lateness_limit_is_a_parameter() -> None:
    moment = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    schedule = due(cron="0 9 * * *", due_at=moment)

    (strict,) = plan(schedule, now=moment + timedelta(minutes=11), max_lateness=timedelta(minutes=10))
    (lenient,) = plan(schedule, now=moment + timedelta(minutes=11), max_lateness=timedelta(minutes=20))

    assert (strict.send, lenient.send) == (False, True)


def test_plan_firings_catch_up_across_the_repeated_hour_does_not_invent_a_run() -> None:
    # Berlin 2025-10-26: 02:30 runs at 00:30Z only. Ticks missed until 01:45Z: that run is 75
    # minutes old, so it is skipped; 01:30Z (02:30 CET, the second pass) is no run of this cron.
    schedule = due(
        cron="30 2 * * *", timezone="Europe/Berlin", due_at=datetime(2025, 10, 26, 0, 30, tzinfo=UTC)
    )

    (firing,) = plan(schedule, now=datetime(2025, 10, 26, 1, 45, tzinfo=UTC))

    assert (firing.occurrence_at, firing.send, firing.next_run_at) == (
        datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
        False,
        datetime(2025, 10, 27, 1, 30, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("priority", "tier"), [(9, "high"), (7, "high"), (5, "normal"), (3, "normal"), (2, "low"), (0, "low")]
)
def test_plan_firings_queue_per_channel_and_priority_tier(priority: int, tier: str) -> None:
    (firing,) = plan(due(priority=priority, event_type=EventType.NEW_EPISODE))

    assert firing.queue_by_channel == {
        Channel.EMAIL: f"p-email-{tier}",
        Channel.SMS: f"p-sms-{tier}",
        Channel.PUSH: f"p-push-{tier}",
    }


def test_plan_firings_one_firing_per_schedule_each_with_its_own_event() -> None:
    schedules = [due(), due(cron=None), due(cron="0 9 * * *", due_at=NOW - timedelta(days=1))]

    firings = plan(*schedules)

    assert [f.schedule_id for f in firings] == [s.schedule_id for s in schedules]
    assert len({f.event_id for f in firings}) == 3
    assert plan() == []


# ---- fire_due_schedules -------------------------------------------------------------------------


@dataclass
class BatchStore(FakeOutboxMarks):
    """A ScheduleStore (and, from FakeOutboxMarks, an Outbox) that hands out `waiting` due
    schedules, `limit` at a time."""

    waiting: int = 0
    calls: list[int] = field(default_factory=list)
    planned: list[Firing] = field(default_factory=list)
    due_at: datetime = NOW
    cron: str | None = "*/5 * * * *"

    def fire_due(
        self,
        now: datetime,
        limit: int,
        plan: Callable[[list[DueSchedule]], list[Firing]],
        chunk_size: int,
        max_users: int,
    ) -> FiredBatch:
        self.calls.append(limit)
        taken = min(limit, self.waiting)
        self.waiting -= taken
        if not taken:
            return FiredBatch(claimed=0, sent=0, skipped_late=0)
        firings = plan([due(cron=self.cron, due_at=self.due_at) for _ in range(taken)])
        self.planned.extend(firings)
        sent = [f for f in firings if f.send]
        outbox = [OutboundMessage(uuid.uuid4(), "q", f.event_id.bytes) for f in sent]
        return FiredBatch(claimed=taken, sent=len(sent), skipped_late=taken - len(sent), outbox=outbox)


def fire(store: BatchStore, publisher: FakePublisher, **options: Any) -> FireReport:
    return fire_due_schedules(
        now=NOW,
        schedules=store,  # type: ignore[arg-type]  # only fire_due is used
        outbox=store,
        publisher=publisher,
        max_lateness=HOUR,
        router=QueueRouter("p"),
        chunk_size=250,
        **options,
    )


@pytest.mark.parametrize(
    ("waiting", "calls"), [(0, [3]), (2, [3, 3]), (3, [3, 3]), (7, [3, 3, 3, 3]), (9, [3, 3, 3, 3])]
)
def test_fire_due_schedules_loops_batches_until_one_claims_nothing(waiting: int, calls: list[int]) -> None:
    store, publisher = BatchStore(waiting=waiting), FakePublisher()

    report = fire(store, publisher, batch_size=3)

    assert store.calls == calls
    assert report == FireReport(sent=waiting, skipped_late=0)
    assert len(publisher.published) == waiting
    assert store.published == [m.message_id for m in publisher.published]
    assert store.waiting == 0


def test_fire_due_schedules_stops_when_the_time_is_up_after_its_first_batch() -> None:
    store, publisher = BatchStore(waiting=100), FakePublisher()
    left = iter([5.0, 0.0])  # asked before the second batch and the third

    report = fire(store, publisher, batch_size=3, time_left=lambda: next(left))

    assert store.calls == [3, 3]
    assert (report.sent, store.waiting) == (6, 94)


def test_fire_due_schedules_stops_after_max_batches() -> None:
    store, publisher = BatchStore(waiting=100), FakePublisher()

    report = fire(store, publisher, batch_size=3, max_batches=4)

    assert store.calls == [3, 3, 3, 3]
    assert (report.sent, store.waiting) == (12, 88)


def test_fire_due_schedules_counts_late_occurrences_and_publishes_nothing_for_them() -> None:
    store, publisher = BatchStore(waiting=5, due_at=NOW - 2 * HOUR, cron=None), FakePublisher()

    report = fire(store, publisher, batch_size=2)

    assert report == FireReport(sent=0, skipped_late=5)
    assert store.calls == [2, 2, 2, 2]  # the last finds none due
    assert publisher.published == []
    assert all(not f.send for f in store.planned)


def test_fire_due_schedules_with_the_broker_down_keeps_going_and_leaves_messages_stored() -> None:
    store, publisher = BatchStore(waiting=5), FakePublisher(down=True)

    report = fire(store, publisher, batch_size=2)

    assert report == FireReport(sent=5, skipped_late=0)
    assert store.calls == [2, 2, 2, 2]
    assert (publisher.published, store.published) == ([], [])


def test_fire_due_schedules_plans_with_its_now_and_lateness() -> None:
    store = BatchStore(waiting=1, due_at=datetime(2025, 3, 10, 12, 0, tzinfo=UTC))

    fire(store, FakePublisher(), batch_size=10)

    (firing,) = store.planned
    assert (firing.occurrence_at, firing.next_run_at, firing.send) == (
        datetime(2025, 3, 10, 12, 20, tzinfo=UTC),
        datetime(2025, 3, 10, 12, 25, tzinfo=UTC),
        True,
    )


def test_plan_firings_schedules_sharing_a_cron_keep_their_own_due_moment() -> None:
    early = due(due_at=datetime(2025, 3, 10, 12, 0, tzinfo=UTC))
    late = due(due_at=datetime(2025, 3, 10, 12, 21, tzinfo=UTC))
    elsewhere = due(
        due_at=datetime(2025, 3, 10, 10, 30, tzinfo=UTC), cron="0 * * * *", timezone="Asia/Kolkata"
    )

    firings = plan(early, late, elsewhere)

    assert [(f.occurrence_at, f.next_run_at) for f in firings] == [
        (datetime(2025, 3, 10, 12, 20, tzinfo=UTC), datetime(2025, 3, 10, 12, 25, tzinfo=UTC)),
        (datetime(2025, 3, 10, 12, 21, tzinfo=UTC), datetime(2025, 3, 10, 12, 25, tzinfo=UTC)),
        # Kolkata is UTC+5:30: its full hours fall at half past in UTC.
        (datetime(2025, 3, 10, 11, 30, tzinfo=UTC), datetime(2025, 3, 10, 12, 30, tzinfo=UTC)),
    ]


# ---- workflows: an occurrence runs the version current when it fires ------------------------------


def test_plan_firings_routes_an_occurrence_by_its_workflows_current_version() -> None:
    schedule = DueSchedule(uuid.uuid4(), "match_starts", 9, None, "UTC", NOW, workflow_version=3)
    asked: list[tuple[str, int]] = []

    def channels_of(key: str, version: int) -> dict[Channel, int]:
        asked.append((key, version))
        return {Channel.PUSH: 2}

    [firing] = plan_firings(
        [schedule], now=NOW, max_lateness=HOUR, router=QueueRouter("p"), channels_of=channels_of
    )

    assert asked == [("match_starts", 3)]
    assert (firing.send, firing.workflow_version) == (True, 3)
    assert firing.queue_by_channel == {Channel.PUSH: "p-push-high"}


def test_plan_firings_skips_an_occurrence_whose_workflow_is_archived() -> None:
    schedule = DueSchedule(uuid.uuid4(), "match_starts", 5, "*/5 * * * *", "UTC", NOW, workflow_version=None)

    [firing] = plan_firings([schedule], now=NOW, max_lateness=HOUR, router=QueueRouter("p"))

    assert not firing.send
    assert firing.next_run_at is not None  # the schedule goes on: a PUT makes the workflow active again
