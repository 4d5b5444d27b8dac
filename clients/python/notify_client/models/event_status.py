from enum import StrEnum


class EventStatus(StrEnum):
    CANCELLED = "cancelled"
    QUEUED = "queued"
    SCHEDULED = "scheduled"

    def __str__(self) -> str:
        return str(self.value)
