"""The EventBridge minute tick."""

from collections.abc import Callable
from datetime import UTC, datetime

from notify.bootstrap import services
from notify.entrypoints.metrics import emit_outbox_parked
from notify.feedback import SmsOptOuts
from notify.tick import TickReport, run_tick


def tick_now(remaining_s: Callable[[], float] = lambda: 0.0) -> TickReport:
    """One tick; fan-out steps are begun while `remaining_s()` (the invocation's time) exceeds the margin."""
    ctx = services()
    margin = ctx.settings.tick_margin_seconds
    report = run_tick(
        now=datetime.now(UTC),
        schedules=ctx.schedules,
        outbox=ctx.outbox,
        publisher=ctx.publisher,
        policy=ctx.tick_policy,
        waiting=ctx.waiting,
        opt_outs=SmsOptOuts(
            numbers=ctx.opted_out_numbers, suppressions=ctx.suppressions, claims=ctx.sync_claims
        ),
        fan_outs=ctx.fan_outs,
        time_left=lambda: remaining_s() - margin,
        backlog=ctx.dead_letters.backlog,
        retention=ctx.retention,
        runs=ctx.runs,
        versions=ctx.kept_versions,
    )
    emit_outbox_parked(ctx.outbox.parked_count())
    return report
