"""The EventBridge minute tick."""

from datetime import UTC, datetime

from notify.bootstrap import services
from notify.opt_outs import SmsOptOuts
from notify.tick import TickReport, run_tick


def tick_now() -> TickReport:
    ctx = services()
    return run_tick(
        now=datetime.now(UTC),
        schedules=ctx.schedules,
        outbox=ctx.outbox,
        publisher=ctx.publisher,
        policy=ctx.tick_policy,
        waiting=ctx.waiting,
        opt_outs=SmsOptOuts(
            numbers=ctx.opted_out_numbers, suppressions=ctx.suppressions, claims=ctx.sync_claims
        ),
    )
