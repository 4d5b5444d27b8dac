"""SQS's queue-depth metrics without its per-request ones (a `localstack.hooks.on_infra_start` hook).

With SQS_DISABLE_CLOUDWATCH_METRICS off, LocalStack publishes two kinds of metric: each queue's depth
every SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL seconds (ApproximateNumberOfMessagesVisible, NotVisible,
Delayed: what the stack's DLQ alarms watch), and one metric per send, receive and delete (a CloudWatch
write inside each request: an idle SendMessage took 31-38 ms with them, 5.5 ms without). stack.sh keeps
the second off; with `LOCALSTACK_SQS_QUEUE_DEPTH_METRICS=1` (its default) this starts the first alone,
LocalStack's own periodic worker, so that an alarm on a DLQ's depth goes into ALARM here as on AWS.
"""

from __future__ import annotations

import logging
import os

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)


@hooks.on_infra_start()
def _sqs_queue_depth_metrics() -> None:
    if os.environ.get("LOCALSTACK_SQS_QUEUE_DEPTH_METRICS", "1") != "1":
        return
    from localstack import config
    from localstack.services.sqs.provider import CloudwatchPublishWorker

    if not config.SQS_DISABLE_CLOUDWATCH_METRICS:
        return  # LocalStack's SQS publishes them itself
    CloudwatchPublishWorker().start()
    LOG.info("SQS queue-depth metrics every %s s", config.SQS_CLOUDWATCH_METRICS_REPORT_INTERVAL)
