"""How long a message waits before it is tried again: one schedule for SQS and RabbitMQ."""


def retry_delay_s(attempt: int, base_s: int = 10, cap_s: int = 900) -> int:
    """Exponential backoff: 10 s, 20 s, 40 s, … capped at 15 minutes."""
    return int(min(cap_s, base_s * 2 ** max(0, attempt - 1)))
