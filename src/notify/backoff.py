"""How long a message waits before it is tried again: one schedule for SQS and RabbitMQ."""


def retry_delay_s(attempt: int, base_s: int = 10, cap_s: int = 900) -> int:
    """Exponential backoff: 10 s, 20 s, 40 s, … capped at 15 minutes."""
    return int(min(cap_s, base_s * 2 ** max(0, attempt - 1)))


def receive_schedule_s(max_receives: int, visibility_timeout_s: int, attempt_run_s: float) -> int:
    """The longest a message can stay in its queue before it is dead-lettered: each of its receives runs
    for up to `attempt_run_s`, then waits out its backoff, or the visibility timeout when the attempt
    died without deferring it (whichever is longer)."""
    return int(
        sum(attempt_run_s + max(retry_delay_s(k), visibility_timeout_s) for k in range(1, max_receives + 1))
    )
