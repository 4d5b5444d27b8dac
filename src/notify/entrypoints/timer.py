"""The EventBridge minute tick."""

from datetime import UTC, datetime

from notify.bootstrap import services
from notify.ticking import TickReport, run_tick


def tick_now() -> TickReport:
    ctx = services()
    return run_tick(
        now=datetime.now(UTC),
        outbox=ctx.store,
        publisher=ctx.publisher,
        outbox_grace_s=ctx.settings.outbox_grace_seconds,
    )
