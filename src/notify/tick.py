"""What the minute tick does. Scheduling code takes `now`; it never reads the clock itself."""

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from notify.backoff import receive_schedule_s
from notify.channels import ChannelsOf, QueueRouter, shipped_channels
from notify.delivery import WaitingNotifications
from notify.errors import RetryableError, TickIncomplete
from notify.events import FanOutPolicy, FanOutReport, FanOuts, advance_fan_outs
from notify.feedback import OptOutReport, SmsOptOuts, sync_sms_opt_outs
from notify.logs import module_logger
from notify.outbox import Outbox, Publisher, Relayed, publish_after_commit, republish_unpublished
from notify.retention import PruneReport, Retention, RetentionPolicy, prune_old_rows
from notify.scheduling import FireReport, ScheduleStore, fire_due_schedules
from notify.workflows import KeptVersions, RunPolicy, RunReport, RunStore, advance_runs

logger = module_logger()


@dataclass(frozen=True)
class TickReport:
    occurrences_sent: int
    occurrences_skipped_late: int
    released: int
    republished: int
    parked: int = 0  # messages the broker refused for good during this tick, set aside in the outbox
    sms_opted_out_added: int = 0  # numbers the carrier's opt-out list added to the suppression list
    fan_out_members: int = 0  # audience members whose notifications this tick's fan-out steps made
    fan_outs_completed: int = 0
    lost_requeued: int = 0  # rows whose message was gone, queued again
    lost_failed: int = 0  # rows whose message was gone after their last allowed attempt, failed
    pruned_outbox: int = 0  # published outbox messages deleted for their age (notify.retention)
    pruned_notifications: int = 0  # finished notifications deleted for their age
    pruned_feedback: int = 0  # feedback records deleted for their age


@dataclass(frozen=True)
class ReleaseReport:
    released: int
    parked: int = 0
    lost_requeued: int = 0
    lost_failed: int = 0


@dataclass(frozen=True)
class LostMessages:
    """When a row still waiting in a queue has lost its message (see backoff.receive_schedule_s)."""

    after: timedelta  # the queue's whole receive schedule plus a margin
    attempt_budget: int  # attempts a row may have had and still be queued again

    @classmethod
    def past_the_receive_schedule(
        cls, max_receives: int, visibility_timeout_s: int, attempt_run_s: float, margin_s: int
    ) -> "LostMessages":
        schedule_s = receive_schedule_s(max_receives, visibility_timeout_s, attempt_run_s)
        return cls(after=timedelta(seconds=schedule_s + margin_s), attempt_budget=max_receives)


@dataclass(frozen=True)
class TickPolicy:
    """How the tick works, as configured (bootstrap builds it from the settings)."""

    router: QueueRouter
    outbox_grace_s: int  # an outbox row younger than this is left to the request that wrote it
    max_lateness: timedelta  # an occurrence older than this is skipped, not sent late
    chunk_size: int  # recipients per queue message
    batch_size: int  # due schedules taken per transaction
    reservations_kept_for: timedelta | None  # frequency-cap reservations older than this are pruned
    sms_opt_outs_every: timedelta = timedelta(hours=1)  # the carrier's SMS opt-outs are synced this often
    fan_out_step: int = 10_000  # an audience's members per fan-out step (per transaction)
    lost: LostMessages | None = None  # None: rows whose message is gone are not looked for
    retention: RetentionPolicy | None = None  # None: no row is deleted for its age
    channels_of: ChannelsOf = shipped_channels  # a workflow version → the channels it sends on at once


def run_tick(
    *,
    now: datetime,
    schedules: ScheduleStore,
    outbox: Outbox,
    publisher: Publisher,
    policy: TickPolicy,
    waiting: WaitingNotifications,
    opt_outs: SmsOptOuts | None = None,
    fan_outs: FanOuts | None = None,
    time_left: Callable[[], float] | None = None,
    backlog: Callable[[], Mapping[str, int]] | None = None,
    retention: Retention | None = None,
    runs: RunStore | None = None,
    versions: KeptVersions | None = None,
) -> TickReport:
    """Re-publish whatever an outage left in the outbox, then send the occurrences that are due
    and the notifications whose wait is over; then, when it is due (`policy.sms_opt_outs_every`),
    suppress the numbers that opted out of SMS at the carrier (none given: not at all); last, step the
    fan-outs of events to an audience while `time_left()` seconds allow, and delete the rows kept long
    enough (`policy.retention`) in what time is left. Without `time_left` (tests, tools) no fan-out step
    is taken, nothing is deleted, and the due schedules are fired to the end.

    The steps are independent: one that fails is logged and the others still run (the relay
    first, so that nothing earlier can keep it from running); the tick then raises
    TickIncomplete, after logging what it did."""
    failed: list[str] = []
    first_error: Exception | None = None

    def step[T](name: str, run: Callable[[], T], empty: T) -> T:
        nonlocal first_error
        try:
            return run()
        except Exception as error:  # noqa: BLE001 - one failing step must not stop the others
            logger.error("tick step failed", extra={"step": name, "error": type(error).__name__})
            failed.append(name)
            first_error = first_error or error
            return empty

    relayed = step(
        "relay",
        lambda: republish_unpublished(
            publisher=publisher, outbox=outbox, now=now, grace_s=policy.outbox_grace_s
        ),
        Relayed(),
    )
    fired = step(
        "schedules",
        lambda: fire_due_schedules(
            now=now,
            schedules=schedules,
            outbox=outbox,
            publisher=publisher,
            max_lateness=policy.max_lateness,
            router=policy.router,
            chunk_size=policy.chunk_size,
            channels_of=policy.channels_of,
            batch_size=policy.batch_size,
            users_per_batch=policy.fan_out_step,
            time_left=time_left or (lambda: 1.0),
        ),
        FireReport(sent=0, skipped_late=0),
    )
    released = step(
        "waiting",
        lambda: release_waiting(
            now=now,
            waiting=waiting,
            outbox=outbox,
            publisher=publisher,
            router=policy.router,
            chunk_size=policy.chunk_size,
            reservations_kept_for=policy.reservations_kept_for,
            lost=policy.lost,
            backlog=backlog,
        ),
        ReleaseReport(released=0),
    )
    opted_out = (
        step(
            "sms_opt_outs",
            lambda: sync_sms_opt_outs(opt_outs, now=now, every=policy.sms_opt_outs_every),
            OptOutReport(),
        )
        if opt_outs is not None
        else OptOutReport()
    )
    advanced = (
        step(
            "runs",
            lambda: advance_runs(
                runs=runs,
                versions=versions,
                outbox=outbox,
                publisher=publisher,
                policy=RunPolicy(policy.router, policy.chunk_size, policy.batch_size),
                now=lambda: now,
                # at most half of what is left: audiences' fan-outs get their turn
                time_left=halved(time_left or (lambda: 0.0)),
            ),
            RunReport(),
        )
        if runs is not None and versions is not None
        else RunReport()
    )
    fanned = (
        step(
            "fan_outs",
            lambda: advance_fan_outs(
                fan_outs=fan_outs,
                outbox=outbox,
                publisher=publisher,
                policy=FanOutPolicy(
                    policy.router, policy.fan_out_step, policy.chunk_size, policy.channels_of
                ),
                now=lambda: now,
                time_left=time_left or (lambda: 0.0),
            ),
            FanOutReport(),
        )
        if fan_outs is not None
        else FanOutReport()
    )
    pruned = (
        step(
            "retention",
            lambda: prune_old_rows(retention, rules, now, time_left or (lambda: 0.0)),
            PruneReport(),
        )
        if retention is not None and (rules := policy.retention) is not None
        else PruneReport()
    )
    report = TickReport(
        occurrences_sent=fired.sent,
        occurrences_skipped_late=fired.skipped_late,
        released=released.released,
        republished=relayed.published,
        parked=relayed.parked + fired.parked + released.parked + fanned.parked + advanced.parked,
        sms_opted_out_added=opted_out.added,
        fan_out_members=fanned.members,
        fan_outs_completed=fanned.completed,
        lost_requeued=released.lost_requeued,
        lost_failed=released.lost_failed,
        pruned_outbox=pruned.outbox,
        pruned_notifications=pruned.notifications,
        pruned_feedback=pruned.feedback,
    )
    if failed:
        logger.error("tick incomplete", extra={"failed_steps": failed, **asdict(report)})
        raise TickIncomplete(failed) from first_error
    return report


def halved(time_left: Callable[[], float]) -> Callable[[], float]:
    """A budget of half the time left now, counted down as `time_left` is."""
    started = time_left()
    return lambda: time_left() - started / 2


def release_waiting(
    *,
    now: datetime,
    waiting: WaitingNotifications,
    outbox: Outbox,
    publisher: Publisher,
    router: QueueRouter,
    chunk_size: int,
    batch_size: int = 1000,
    max_batches: int = 100,
    reservations_kept_for: timedelta | None = None,
    lost: LostMessages | None = None,
    backlog: Callable[[], Mapping[str, int]] | None = None,
) -> ReleaseReport:
    """Send what quiet hours deferred and what digest windows held, now that their time has come;
    then, given `lost`, queue again (or fail) the rows whose message is gone: only on routes whose
    queue holds nothing by `backlog()` (in a backlog a message waits longer than its receive schedule
    and is not lost; without `backlog`, every route). Reports how many notifications went back to
    their queues (a digest counts once)."""
    queues = router.table()
    if reservations_kept_for is not None:
        waiting.prune_reservations(now - reservations_kept_for)
    released = 0
    relayed = Relayed()
    for _ in range(max_batches):
        batch = waiting.release_waiting(now, batch_size, queues, chunk_size)
        if batch.outbox:
            relayed += publish_after_commit(batch.outbox, publisher=publisher, outbox=outbox, now=now)
        released += batch.notifications
        if batch.notifications == 0:
            break
    requeued = failed = 0
    routes = _idle_routes(queues, backlog) if lost is not None else []
    if lost is not None and routes != []:
        for _ in range(max_batches):
            batch = waiting.requeue_lost(
                now,
                queued_before=now - lost.after,
                attempt_budget=lost.attempt_budget,
                limit=batch_size,
                queue_by_channel_priority=queues,
                chunk_size=chunk_size,
                routes=routes,
            )
            if batch.outbox:
                relayed += publish_after_commit(batch.outbox, publisher=publisher, outbox=outbox, now=now)
            requeued, failed = requeued + batch.notifications, failed + batch.failed
            if batch.notifications + batch.failed < batch_size:
                break
    return ReleaseReport(released=released, parked=relayed.parked, lost_requeued=requeued, lost_failed=failed)


def _idle_routes(
    queues: Mapping[str, str], backlog: Callable[[], Mapping[str, int]] | None
) -> list[str] | None:
    """The routes whose queue holds no message (None: every route, when nobody can tell); none when
    the broker cannot say (the sweep waits for a tick that can)."""
    if backlog is None:
        return None
    try:
        held = backlog()
    except RetryableError as error:
        logger.warning(
            "queue backlog unknown; lost messages looked for next time", extra={"error": str(error)}
        )
        return []
    return [route for route, queue in queues.items() if held.get(queue, 1) == 0]
