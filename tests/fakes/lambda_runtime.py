"""What the Lambda runtime and SQS give the queue entry point: the context, the retry delay."""

from dataclasses import dataclass, field


@dataclass
class FakeRetryDelay:
    """Records every defer(queue_arn, receipt_handle, seconds) call."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)

    def defer(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        self.calls.append((queue_arn, receipt_handle, seconds))


@dataclass
class FakeLambdaContext:
    """The attributes of a LambdaContext that powertools reads."""

    function_name: str = "notify-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:notify-test"
    aws_request_id: str = "3f1c2e4a-0000-4000-8000-000000000001"
    log_group_name: str = "/aws/lambda/notify-test"
    log_stream_name: str = "2025/01/01/[$LATEST]0123456789abcdef"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
