"""Publishing to Amazon SQS: one queue per channel and tier, sent in batches of up to ten."""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import aws_client
from notify.errors import BrokerUnavailable
from notify.outbox import OutboundMessage, PublishOutcome, Refused

_MAX_BATCH_ENTRIES = 10
_MAX_BATCH_BYTES = 250_000  # under SQS's 256 KiB per request, leaving room for the envelope
# SQS's classic limit per message. Queues made since 2025 take up to 1 MiB (LocalStack's do), but
# messages are written to fit NOTIFY_MAX_MESSAGE_BYTES, so anything larger is a foreign row.
SQS_MAX_MESSAGE_BYTES = 262_144
# Error codes by which SQS refuses the request for what the messages are (both spellings: the
# JSON protocol's and the query protocol's). Anything else is an outage.
_REFUSALS = frozenset(
    {
        "InvalidParameterValue",
        "MessageTooLong",
        "BatchRequestTooLong",
        "InvalidMessageContents",
        "AWS.SimpleQueueService.BatchRequestTooLong",
        "AWS.SimpleQueueService.MessageTooLong",
        "AWS.SimpleQueueService.InvalidMessageContents",
    }
)


class SqsPublisher:
    """Reports per message: published, or refused by SQS for what it is (too large, invalid
    characters: SenderFault); a missing queue or an unreachable endpoint is an outage."""

    def __init__(
        self,
        region: str,
        queue_url_base: str | None = None,
        probe_queue: str = "notify-email-high",
        max_message_bytes: int = SQS_MAX_MESSAGE_BYTES,
    ) -> None:
        self._region = region
        self._probe_queue = probe_queue
        self._max_message_bytes = max_message_bytes
        self._queue_url_base = queue_url_base
        self._urls: dict[str, str] = {}

    def _queue_url(self, queue: str) -> str:
        if queue not in self._urls:
            if self._queue_url_base:
                self._urls[queue] = self._queue_url_base.rstrip("/") + "/" + queue
            else:
                self._urls[queue] = aws_client("sqs", self._region).get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]

    def check(self) -> None:
        # One of its own queues, by name: the role may read those (sqs:ListQueues could only be
        # granted on every queue of the account).
        try:
            aws_client("sqs", self._region).get_queue_url(QueueName=self._probe_queue)
        except (ClientError, BotoCoreError) as error:
            raise BrokerUnavailable(f"sqs: {type(error).__name__}") from error

    def publish(self, messages: Sequence[OutboundMessage]) -> PublishOutcome:
        by_queue: dict[str, list[OutboundMessage]] = defaultdict(list)
        outcome = PublishOutcome()
        for message in messages:
            if len(message.body) > self._max_message_bytes:
                # Sent, it would only come back refused; refused here, it holds up no batch.
                outcome.refused.append(
                    Refused(message.message_id, f"sqs: larger than {self._max_message_bytes} bytes")
                )
            else:
                by_queue[message.queue].append(message)
        sqs = aws_client("sqs", self._region)
        try:
            for queue, queued in by_queue.items():
                url = self._queue_url(queue)
                for batch in _batches(queued):
                    _send(sqs, url, batch, outcome)
        except (ClientError, BotoCoreError) as error:
            if not (outcome.published or outcome.refused):
                raise BrokerUnavailable(f"sqs: {type(error).__name__} {_code(error)}".rstrip()) from error
            # What went out stays published; the rest is left in the outbox for the relay.
        return outcome


def _code(error: Exception) -> str:
    return str(error.response.get("Error", {}).get("Code", "")) if isinstance(error, ClientError) else ""


def _send(sqs: Any, url: str, batch: Sequence[OutboundMessage], outcome: PublishOutcome) -> None:
    """One SendMessageBatch; a request the queue refuses as a whole is tried again message by
    message, so that only the message at fault is refused."""
    try:
        answer = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(index), "MessageBody": m.body.decode()} for index, m in enumerate(batch)],
        )
    except ClientError as error:
        if _code(error) not in _REFUSALS:
            raise
        if len(batch) > 1:
            for message in batch:
                _send(sqs, url, [message], outcome)
            return
        detail = str(error.response.get("Error", {}).get("Message", ""))
        outcome.refused.append(Refused(batch[0].message_id, f"sqs {_code(error)}: {detail}"[:500]))
        return
    for entry in answer.get("Successful", []):
        outcome.published.append(batch[int(entry["Id"])].message_id)
    for failure in answer.get("Failed", []):
        # A fault of the sender (the message itself) is permanent; any other is left for later.
        if failure.get("SenderFault"):
            reason = f"sqs {failure.get('Code')}: {failure.get('Message', '')}"[:500]
            outcome.refused.append(Refused(batch[int(failure["Id"])].message_id, reason))


def _batches(messages: Sequence[OutboundMessage]) -> Iterator[list[OutboundMessage]]:
    batch: list[OutboundMessage] = []
    size = 0
    for message in messages:
        if batch and (len(batch) == _MAX_BATCH_ENTRIES or size + len(message.body) > _MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += len(message.body)
    if batch:
        yield batch


class SqsRetryDelay:
    """Backoff for SQS: a failed message becomes visible again after `seconds`, not at once."""

    def __init__(self, region: str) -> None:
        self._region = region

    def defer(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        # arn:aws:sqs:REGION:ACCOUNT:NAME
        _, _, _, region, account, name = queue_arn.split(":", 5)
        sqs = aws_client("sqs", region or self._region)
        try:
            url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError):
            # The queue's own visibility timeout still brings the message back.
            return
