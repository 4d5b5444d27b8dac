"""What the minute tick does. Scheduling code takes `now`; it never reads the clock itself."""

from dataclasses import dataclass
from datetime import datetime

from notify.ports import Outbox, Publisher
from notify.relay import republish_unpublished


@dataclass(frozen=True)
class TickReport:
    republished: int


def run_tick(*, now: datetime, outbox: Outbox, publisher: Publisher, outbox_grace_s: int) -> TickReport:
    republished = republish_unpublished(publisher=publisher, outbox=outbox, now=now, grace_s=outbox_grace_s)
    return TickReport(republished=republished)
