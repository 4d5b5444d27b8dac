from enum import StrEnum


class EventAcceptedStatus(StrEnum):
    QUEUED = "queued"
    SCHEDULED = "scheduled"

    def __str__(self) -> str:
        return str(self.value)
