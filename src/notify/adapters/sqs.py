"""Publishing to Amazon SQS: one queue per channel and tier, sent in batches of up to ten."""

from collections import defaultdict
from collections.abc import Iterator, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import aws_client
from notify.errors import BrokerUnavailable
from notify.ports import OutboundMessage

_MAX_BATCH_ENTRIES = 10
_MAX_BATCH_BYTES = 250_000  # under SQS's 256 KiB per request, leaving room for the envelope


class SqsPublisher:
    def __init__(self, region: str, queue_url_base: str | None = None) -> None:
        self._region = region
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
        try:
            aws_client("sqs", self._region).list_queues(MaxResults=1)
        except (ClientError, BotoCoreError) as error:
            raise BrokerUnavailable(f"sqs: {type(error).__name__}") from error

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        by_queue: dict[str, list[OutboundMessage]] = defaultdict(list)
        for message in messages:
            by_queue[message.queue].append(message)
        sqs = aws_client("sqs", self._region)
        try:
            for queue, queued in by_queue.items():
                url = self._queue_url(queue)
                for batch in _batches(queued):
                    answer = sqs.send_message_batch(
                        QueueUrl=url,
                        Entries=[
                            {"Id": str(index), "MessageBody": message.body.decode()}
                            for index, message in enumerate(batch)
                        ],
                    )
                    if answer.get("Failed"):
                        codes = sorted({failure["Code"] for failure in answer["Failed"]})
                        raise BrokerUnavailable(f"sqs:SendMessageBatch to {queue} failed: {codes}")
        except (ClientError, BotoCoreError) as error:
            raise BrokerUnavailable(f"sqs: {type(error).__name__}") from error


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
