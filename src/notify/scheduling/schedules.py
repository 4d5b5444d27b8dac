"""Recurring and delayed sends: what the tick fires, and how schedules are changed.

A schedule keeps its next run in an indexed column, so a tick touches only what is due.
Each occurrence gets a key (schedule + due moment) that storage refuses to store twice.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from notify.channels import ChannelsOf, QueueRouter, shipped_channels
from notify.cron import latest_run, next_run, upcoming_runs
from notify.errors import FieldProblem, InvalidInput, NotFound, StateConflict
from notify.logs import module_logger
from notify.outbox import Outbox, Publisher, Relayed, publish_after_commit
from notify.scheduling.models import SchedulePage, SchedulePatch, ScheduleState, ScheduleView
from notify.scheduling.ports import DueSchedule, Firing, ScheduleStore
from notify.workflows import WorkflowStore

logger = module_logger()

UPCOMING_RUNS_SHOWN = 5


@dataclass(frozen=True)
class FireReport:
    sent: int
    skipped_late: int
    parked: int = 0


def plan_firings(
    due: list[DueSchedule],
    *,
    now: datetime,
    max_lateness: timedelta,
    router: QueueRouter,
    channels_of: ChannelsOf = shipped_channels,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> list[Firing]:
    """Decide, for each due schedule, which occurrence to send and when it runs next.

    After missed ticks only the most recent due moment is sent, once; one older than
    `max_lateness` is skipped (and counted) rather than sent late. An occurrence runs its workflow's
    version current now; one whose workflow is archived is skipped (and counted) too.
    """
    firings = []
    # Many schedules share a cron and zone (09:00 in Moscow): each pair is evaluated once.
    runs: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for schedule in due:
        if schedule.cron is None:  # a delayed one-shot
            occurrence, following = schedule.due_at, None
        else:
            key = (schedule.cron, schedule.timezone)
            if key not in runs:
                runs[key] = (latest_run(*key, now), next_run(*key, now))
            latest, following = runs[key]
            occurrence = max(schedule.due_at, latest)
        version = schedule.workflow_version
        channels = dict(channels_of(schedule.event_type, version)) if version is not None else {}
        firings.append(
            Firing(
                schedule_id=schedule.schedule_id,
                occurrence_at=occurrence,
                send=version is not None and now - occurrence <= max_lateness,
                next_run_at=following,
                event_id=new_id(),
                queue_by_channel=router.queues_for(channels, schedule.priority),
                workflow_version=version or 1,
            )
        )
    return firings


def fire_due_schedules(
    *,
    now: datetime,
    schedules: ScheduleStore,
    outbox: Outbox,
    publisher: Publisher,
    max_lateness: timedelta,
    router: QueueRouter,
    chunk_size: int,
    channels_of: ChannelsOf = shipped_channels,
    batch_size: int = 1000,
    max_batches: int = 100,
    users_per_batch: int = 10_000,
    time_left: Callable[[], float] = lambda: 1.0,
) -> FireReport:
    """Fire the due schedules in transactions of at most `batch_size` schedules and `users_per_batch`
    users (one larger occurrence goes alone), more while `time_left()` is above zero: a minute with many
    large occurrences is spread over the next ticks instead of one transaction that outlives the
    tick's timeout and rolls back every minute."""
    sent = skipped = 0
    relayed = Relayed()
    for index in range(max_batches):
        if index and time_left() <= 0:  # the first batch always goes: every tick makes progress
            break
        batch = schedules.fire_due(
            now,
            batch_size,
            lambda due: plan_firings(
                due, now=now, max_lateness=max_lateness, router=router, channels_of=channels_of
            ),
            chunk_size,
            users_per_batch,
        )
        sent += batch.sent
        skipped += batch.skipped_late
        if batch.outbox:
            relayed += publish_after_commit(batch.outbox, publisher=publisher, outbox=outbox, now=now)
        if batch.claimed == 0:
            break
    if sent or skipped:
        logger.info("schedules fired", extra={"sent": sent, "skipped_late": skipped})
    return FireReport(sent=sent, skipped_late=skipped, parked=relayed.parked)


def describe_schedule(schedule_id: uuid.UUID, *, schedules: ScheduleStore) -> ScheduleView:
    view = schedules.get_schedule(schedule_id)
    if view is None:
        raise NotFound(f"no schedule {schedule_id}")
    if view.cron and view.next_run_at and view.state == "active":
        later = upcoming_runs(view.cron, view.timezone, view.next_run_at, UPCOMING_RUNS_SHOWN - 1)
        view.next_runs = [view.next_run_at, *later]
    elif view.next_run_at and view.state == "active":
        view.next_runs = [view.next_run_at]
    return view


def change_schedule(
    schedule_id: uuid.UUID, patch: SchedulePatch, *, now: datetime, schedules: ScheduleStore
) -> ScheduleView:
    """Pause, resume, or change the cron or time zone; the next run is worked out afresh."""
    current = schedules.get_schedule(schedule_id)
    if current is None:
        raise NotFound(f"no schedule {schedule_id}")
    if current.state in ("done", "cancelled"):
        raise StateConflict(f"schedule {schedule_id} is {current.state}; it cannot change")
    state = patch.state or current.state
    cron = patch.cron if patch.cron is not None else current.cron
    timezone = patch.timezone or current.timezone
    rescheduled = patch.cron is not None or patch.timezone is not None or (state == "active" != current.state)
    next_run_at = current.next_run_at
    if state == "paused":
        next_run_at = current.next_run_at
    elif rescheduled and cron is not None:
        start = max(now, current.start_dt) if current.start_dt else now
        next_run_at = next_run(cron, timezone, start)
    if not schedules.update_schedule(
        schedule_id, state=state, cron=cron, timezone=timezone, next_run_at=next_run_at
    ):
        raise StateConflict(f"schedule {schedule_id} was cancelled or is done; it cannot change")
    return describe_schedule(schedule_id, schedules=schedules)


def cancel_schedule(schedule_id: uuid.UUID, *, schedules: ScheduleStore) -> None:
    if not schedules.cancel_schedule(schedule_id):
        raise NotFound(f"no schedule {schedule_id}")


def page_schedules(
    *,
    event_type: str | None,
    state: ScheduleState | None,
    limit: int,
    cursor: str | None,
    schedules: ScheduleStore,
    workflows: WorkflowStore,
) -> SchedulePage:
    """A page of schedules; `event_type` must name a workflow (an archived one's schedules are listed)."""
    if event_type is not None and workflows.find_workflow(event_type) is None:
        raise InvalidInput([FieldProblem(("query", "event_type"), f"no workflow {event_type!r}")])
    return schedules.list_schedules(event_type, state, limit, cursor)
