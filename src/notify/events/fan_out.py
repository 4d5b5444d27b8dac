"""Fanning an event out to an audience in bounded steps, each its own transaction, resumed by cursor.

A step takes the next members of the audience in user id order and commits their notification rows,
their outbox messages and the event's cursor together, so a crash between steps resumes where the last
commit left off: no member is skipped and none gets a second row. The ingest steps an event while its
request has time; the tick steps whatever is left, each within the time its invocation has left."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from notify.channels import Channel, ChannelsOf, QueueRouter, shipped_channels
from notify.events.ports import FanOuts
from notify.logs import module_logger
from notify.outbox import Outbox, Publisher, Relayed, publish_after_commit

logger = module_logger()


@dataclass(frozen=True)
class FanOutPolicy:
    router: QueueRouter
    step_members: int  # members per step (per transaction)
    chunk_size: int  # recipients per queue message
    channels_of: ChannelsOf = shipped_channels  # an event's workflow version → its channels


@dataclass(frozen=True)
class FanOutReport:
    steps: int = 0
    members: int = 0
    notifications: int = 0
    completed: int = 0  # events whose fan-out these steps finished
    parked: int = 0  # messages the broker refused for good, set aside in the outbox


def advance_fan_outs(
    *,
    fan_outs: FanOuts,
    outbox: Outbox,
    publisher: Publisher,
    policy: FanOutPolicy,
    now: Callable[[], datetime],
    time_left: Callable[[], float],
    event_id: uuid.UUID | None = None,
) -> FanOutReport:
    """Step fan-outs (only `event_id`'s, if given) while a step fits in `time_left()` seconds, judged
    by the slowest step so far; publish each step's messages once it is committed."""

    def routes(event_type: str, version: int, priority: int) -> dict[Channel, tuple[str, int]]:
        return policy.router.routes_for(policy.channels_of(event_type, version), priority)

    steps = members = notifications = completed = 0
    relayed, slowest = Relayed(), 0.0
    while (left := time_left()) > slowest:
        step = fan_outs.fan_out_step(
            event_id, members=policy.step_members, routes=routes, chunk_size=policy.chunk_size
        )
        if step is None:
            break
        if step.outbox:
            relayed += publish_after_commit(step.outbox, publisher=publisher, outbox=outbox, now=now())
        steps, members, notifications = steps + 1, members + step.members, notifications + step.notifications
        completed += step.complete
        slowest = max(slowest, left - time_left())
        if step.complete and event_id is not None:
            break
    if steps:
        logger.info(
            "fan-out steps done",
            extra={
                "steps": steps,
                "members": members,
                "notifications": notifications,
                "completed": completed,
            },
        )
    return FanOutReport(steps, members, notifications, completed, relayed.parked)
