from enum import StrEnum


class ScheduleState(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    DONE = "done"
    PAUSED = "paused"

    def __str__(self) -> str:
        return str(self.value)
