"""What the Lambda runtime and SQS give the queue entry point: the context, the retry delay."""

from dataclasses import dataclass, field

from notify_dev.doubles import FakeLambdaContext

__all__ = ["FakeLambdaContext", "FakeRetryDelay"]


@dataclass
class FakeRetryDelay:
    """Records every defer(queue_arn, receipt_handle, seconds) call."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def defer(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        self.calls.append((queue_arn, receipt_handle, seconds))
