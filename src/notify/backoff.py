"""How long a message waits before it is tried again: one schedule for SQS and RabbitMQ."""


def retry_delay_s(attempt: int, base_s: int = 10, cap_s: int = 900) -> int:
    """Exponential backoff: 10 s, 20 s, 40 s, … capped at 15 minutes."""
    return int(min(cap_s, base_s * 2 ** max(0, attempt - 1)))


def provider_retry_delay_s(age_s: float, floor_s: int = 10, cap_s: int = 900) -> int:
    """How long a recipient whose provider failed for now waits before its next try: half the
    notification's age, between 10 s and 15 minutes. Each try comes half an age later than the last,
    so the tries are spaced exponentially; the notification's max age ends them (`expired`)."""
    return int(min(cap_s, max(floor_s, age_s / 2)))


def receive_schedule_s(max_receives: int, visibility_timeout_s: int, attempt_run_s: float) -> int:
    """The longest a message can stay in its queue before it is dead-lettered: each of its receives runs
    for up to `attempt_run_s`, then waits out its backoff, or the visibility timeout when the attempt
    died without deferring it (whichever is longer)."""
    return int(
        sum(attempt_run_s + max(retry_delay_s(k), visibility_timeout_s) for k in range(1, max_receives + 1))
    )
