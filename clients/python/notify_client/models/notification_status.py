from enum import StrEnum


class NotificationStatus(StrEnum):
    BOUNCED = "bounced"
    CANCELLED = "cancelled"
    COMPLAINED = "complained"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    DIGESTED = "digested"
    EXPIRED = "expired"
    FAILED = "failed"
    HELD = "held"
    QUEUED = "queued"
    RETRYING = "retrying"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    UNCONFIRMED = "unconfirmed"

    def __str__(self) -> str:
        return str(self.value)
