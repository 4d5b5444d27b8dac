"""The EventBridge minute tick."""

from datetime import UTC, datetime, timedelta

from notify.bootstrap import services
from notify.tick import TickReport, run_tick


def tick_now() -> TickReport:
    ctx = services()
    return run_tick(
        now=datetime.now(UTC),
        schedules=ctx.store,
        outbox=ctx.store,
        publisher=ctx.publisher,
        outbox_grace_s=ctx.settings.outbox_grace_seconds,
        max_lateness=timedelta(seconds=ctx.settings.schedule_max_lateness_seconds),
        router=ctx.router,
        chunk_size=ctx.settings.message_chunk_size,
        batch_size=ctx.settings.tick_batch_size,
        waiting=ctx.store,
        reservations_kept_for=max((cap.window for cap in ctx.rules.caps.values()), default=None),
    )
