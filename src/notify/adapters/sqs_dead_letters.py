"""The SQS dead-letter queues (`<queue>-dlq`): how many messages each holds, and the redrive."""

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from notify.adapters.aws import aws_client
from notify.channels import DEAD_LETTER_SUFFIX
from notify.errors import BrokerUnavailable

_WAITING = ["ApproximateNumberOfMessages"]
# What a queue still holds: waiting, in flight (received, not deleted) and delayed.
_HELD = [*_WAITING, "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


class SqsDeadLetters:
    """`client`: an SQS client (tools pass LocalStack's); by default the shared one of the region."""

    def __init__(self, region: str, queues: Sequence[str], client: Any = None) -> None:
        self._region = region
        self._queues = list(queues)
        self._client = client
        self._urls: dict[str, str] = {}

    def _sqs(self) -> Any:
        return self._client if self._client is not None else aws_client("sqs", self._region)

    def _url(self, queue: str) -> str:
        if queue not in self._urls:
            self._urls[queue] = self._sqs().get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]

    def _held(self, queue: str, attributes: Sequence[str]) -> int:
        """The sum of the queue's message-count `attributes`; BrokerUnavailable when SQS fails."""
        try:
            counts = self._sqs().get_queue_attributes(
                QueueUrl=self._url(queue), AttributeNames=list(attributes)
            )
        except (ClientError, BotoCoreError) as error:
            raise BrokerUnavailable(f"sqs: {type(error).__name__}") from error
        return sum(int(count) for count in counts["Attributes"].values())

    def depths(self) -> dict[str, int]:
        return {
            queue + DEAD_LETTER_SUFFIX: self._held(queue + DEAD_LETTER_SUFFIX, _WAITING)
            for queue in self._queues
        }

    def backlog(self) -> dict[str, int]:
        return {queue: self._held(queue, _HELD) for queue in self._queues}

    def redrive(self, queue: str) -> int:
        """Move every message of `queue`'s DLQ back to `queue`: each is sent before it is deleted, so a
        crash in between leaves it in both (the ledger makes the second delivery a no-op)."""
        if queue not in self._queues:
            raise ValueError(f"no such queue: {queue}")
        sqs, source, target = self._sqs(), self._url(queue + DEAD_LETTER_SUFFIX), self._url(queue)
        # At most what it held when asked (a message dead-lettered again meanwhile stays); long polls,
        # since a short one may answer nothing while messages remain.
        held = self._held(queue + DEAD_LETTER_SUFFIX, _WAITING)
        moved = 0
        while moved < held and (
            batch := sqs.receive_message(
                QueueUrl=source,
                MaxNumberOfMessages=min(10, held - moved),
                VisibilityTimeout=60,
                WaitTimeSeconds=1,
            ).get("Messages", [])
        ):
            entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(batch)]
            sent = sqs.send_message_batch(QueueUrl=target, Entries=entries)
            done = {entry["Id"] for entry in sent.get("Successful", [])}
            taken = [m for i, m in enumerate(batch) if str(i) in done]
            if taken:
                sqs.delete_message_batch(
                    QueueUrl=source,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(taken)
                    ],
                )
            moved += len(taken)
            if len(taken) < len(batch):
                break  # the rest stay in the DLQ, visible again after the visibility timeout
        return moved
