"""SES event publishing off the send's request path, as on AWS.

LocalStack's SES provider publishes a configuration set's events (Send, Delivery: one SNS publish
each) inside the `SendRawEmail` request, so a send with the set costs about five times one without it
(issue 27's measurement: 36–39/s against 131–218/s with 32 threads). On AWS the events follow the send;
they never hold it up. This hook, run when LocalStack's infrastructure starts, replaces the provider's
`notify_event_destinations` with a hand-off to a bounded queue that a worker thread drains.

- Events are still published, in the order each worker takes them, a moment after the answer.
- When the queue is full the send publishes its own events, as before: the queue bounds the memory,
  and a burst slows the senders instead of dropping feedback.
- A worker that fails logs it and goes on; LocalStack's own code already swallows SNS errors there.
"""

from __future__ import annotations

import logging

from localstack.runtime import hooks

from localstack_host_executor.deferred import Deferred

# in LocalStack's namespace, which its logging setup shows at INFO
LOG = logging.getLogger("localstack.plugins.ses_events_after_the_send")

QUEUE_SIZE = 10_000  # events of this many sends wait at most; ~2 KB each
# More workers compete with the sends for LocalStack's one interpreter: with 4, sends with the set ran
# at 0.54–0.69 of a plain send's rate; with 1, at 0.88–1.02 (localstack/README.md).
WORKERS = 1


@hooks.on_infra_start()
def _ses_events_after_the_send() -> None:
    from localstack.services.ses import provider

    if not isinstance(provider.notify_event_destinations, Deferred):
        provider.notify_event_destinations = Deferred(provider.notify_event_destinations, QUEUE_SIZE, WORKERS)
        # tests/test_ses_events.py reads this line in LocalStack's log: the hook is on
        LOG.info("SES event publishing runs after the send (queue %d, %d workers)", QUEUE_SIZE, WORKERS)
