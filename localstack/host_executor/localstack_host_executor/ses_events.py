"""SES event publishing after the send, as on AWS (a `localstack.hooks.on_infra_start` hook).

LocalStack's SES provider publishes a configuration set's events (Send, Delivery: one SNS publish each)
inside the `SendEmail`/`SendRawEmail` request, so a send with the stack's configuration set costs about
five times a plain one (issue 27's measurement: 39/s against 218/s at 32 threads). On AWS event
publishing never holds up the send. This hook replaces the provider module's
`notify_event_destinations` with one that hands the same call to a `Deferred`: one worker thread
publishes, in order, behind the sends, and gives way while sends keep coming (until 2 s pass without
one, or the lag reaches half its bound), so the events of a burst are published in the quiet after it,
as another fleet of machines would on AWS. The events are the same and arrive later. Once the oldest
waiting events have waited more than `LOCALSTACK_SES_EVENTS_MAX_LAG` seconds (default 600), a send
publishes its own before it answers, as before, so a load that LocalStack cannot keep up with slows the
sends down rather than delaying the events without end.

`GET /_aws/ses/event-publishing` answers what waits (`Deferred.state`): the bench waits for it to
drain between its rounds, and the tests before they count events.

Loaded at LocalStack's start (not through the Lambda executor's entry point, which loads only when a
function runs); `LOCALSTACK_SES_EVENTS_INLINE=1` leaves LocalStack's own behaviour.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from localstack.runtime import hooks

from localstack_host_executor.deferred import Deferred

LOG = logging.getLogger("localstack.plugins.ses_events_after_the_send")
STATE_PATH = "/_aws/ses/event-publishing"
# The worker publishes once no send came for this long (or the lag reached half its bound): on two
# shared cores, the events of a burst are published after it, as on AWS, instead of slowing it down.
# Longer than the pause between two of a sender's SQS batches (about a second: the last sends of one
# invocation, the trigger's next poll, the next claims): at 0.1 s the worker published in every such
# pause, 28 feedback invocations ran inside a 78-second burst of 20,000 sends, and they kept the cores
# from the sends (issue 27). LOCALSTACK_SES_EVENTS_QUIET_S sets it.
QUIET_BEFORE_PUBLISHING_S = 2.0


@dataclass(frozen=True)
class SendingAccount:
    """What the events read of the send's `RequestContext` (LocalStack's `SNSEmitter`: the account,
    region and partition). The request itself, with its headers and body, is not kept while its
    events wait: after a burst of 20,000 sends that is 20,000 requests held for minutes."""

    account_id: str
    region: str
    partition: str

    @classmethod
    def of(cls, context: Any) -> SendingAccount:
        return cls(context.account_id, context.region, context.partition)


class EventPublishingState:
    def __init__(self, events: Deferred) -> None:
        self.events = events

    def on_get(self, request: Any) -> dict[str, Any]:
        return self.events.state()


@hooks.on_infra_start()
def _ses_events_after_the_send() -> None:
    if os.environ.get("LOCALSTACK_SES_EVENTS_INLINE") == "1":
        LOG.info("SES event publishing stays inside the send (LOCALSTACK_SES_EVENTS_INLINE=1)")
        return
    from localstack.http import Resource
    from localstack.services.edge import ROUTER
    from localstack.services.ses import provider

    inline = provider.notify_event_destinations
    if getattr(inline, "deferred", None):
        return
    max_lag = float(os.environ.get("LOCALSTACK_SES_EVENTS_MAX_LAG", "600"))
    quiet = float(os.environ.get("LOCALSTACK_SES_EVENTS_QUIET_S", QUIET_BEFORE_PUBLISHING_S))
    events = Deferred(max_lag=max_lag, workers=1, yield_after=quiet, name="ses-events")

    def notify_event_destinations(*args: Any, **kwargs: Any) -> None:
        if "context" in kwargs:  # how the provider calls it
            kwargs["context"] = SendingAccount.of(kwargs["context"])
        elif args:
            args = (SendingAccount.of(args[0]), *args[1:])
        events.submit(inline, *args, **kwargs)

    notify_event_destinations.deferred = events  # type: ignore[attr-defined]
    provider.notify_event_destinations = notify_event_destinations
    ROUTER.add(Resource(STATE_PATH, EventPublishingState(events)))
    LOG.info("SES event publishing runs after the send (at most about %.0f s behind it)", max_lag)
