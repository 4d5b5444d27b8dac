"""The numbers an operator watches, as CloudWatch metrics in the embedded metric format (EMF): each
call prints one JSON document to stdout, which the Lambda runtime's log stream carries to CloudWatch.
Nothing here touches the network, and nothing is made at import.

The senders count, per message, the notifications handed to the provider (`Sent`: sent or
unconfirmed) and those skipped because the address is suppressed (`Suppressed`), by channel and by
channel and event type. The feedback function counts, per batch, the notifications the provider's
feedback moved to delivered, bounced or complained (`Delivered`, `Bounced`, `Complained`; a copy of
feedback seen before moves nothing), by channel. GET /stats answers the same figures from the rows.
The tick gives, each minute, how many messages wait parked in the outbox (`OutboxParked`).
"""

import threading
from collections.abc import Iterable, Mapping

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from notify.delivery import SUPPRESSED, DeliveryReport
from notify.feedback import Feedback, FeedbackKind, FeedbackReport
from notify.logs import SERVICE

NAMESPACE = "Notify"
SENT, SUPPRESSED_METRIC = "Sent", "Suppressed"
DELIVERED, BOUNCED, COMPLAINED = "Delivered", "Bounced", "Complained"
OUTBOX_PARKED = "OutboxParked"
# A sender delivers several messages at once (Settings.messages_at_once), each printing its document.
_one_document_at_a_time = threading.Lock()
_BY_KIND = {
    FeedbackKind.DELIVERED: DELIVERED,
    FeedbackKind.BOUNCED: BOUNCED,
    FeedbackKind.COMPLAINED: COMPLAINED,
}


def emit_counts(counts: Mapping[str, int], *, channel: str | None, event_type: str | None = None) -> None:
    """One EMF document of `counts` (metric name → count), dimensioned by channel and, given an event
    type, by channel and event type too; with no channel, by the service alone. Metrics of their own
    (EphemeralMetrics, not the shared Metrics), so that each document carries its own dimensions."""
    if not counts:
        return
    metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    if channel is not None:
        metrics.add_dimension(name="channel", value=channel)
    if channel is not None and event_type is not None:
        metrics.add_dimensions(channel=channel, event_type=event_type)
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    with _one_document_at_a_time:  # print() writes a line and its newline apart: lines would interleave
        metrics.flush_metrics()


def emit_outbox_parked(parked: int) -> None:
    """How many messages the broker refused for good wait in the outbox for an operator (the tick, each
    minute; the template's OutboxParkedAlarm watches it). Dimensioned by service alone."""
    emit_counts({OUTBOX_PARKED: parked}, channel=None)


def delivery_counts(report: DeliveryReport) -> dict[str, int]:
    """What one message's delivery did, as the senders' metrics count it."""
    return {
        SENT: len(report.sent) + len(report.unconfirmed),
        SUPPRESSED_METRIC: sum(
            1
            for verdict in report.held_back.values()
            if (verdict.status, verdict.reason) == (SUPPRESSED.status, SUPPRESSED.reason)
        ),
    }


class FeedbackTally:
    """The feedback function's counts over a batch: each record's changed notifications, by the kind
    of feedback it carried (an SES event carries one kind)."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(_BY_KIND.values(), 0)
        self.seen = False

    def add(self, items: Iterable[Feedback], report: FeedbackReport) -> None:
        kinds = {item.kind for item in items}
        self.seen = self.seen or bool(kinds)
        if len(kinds) == 1 and (name := _BY_KIND.get(kinds.pop())) is not None:
            self.counts[name] += report.changed

    def emit(self, channel: str) -> None:
        if self.seen:
            emit_counts(self.counts, channel=channel)
