from enum import StrEnum


class RunViewState(StrEnum):
    CANCELLED = "cancelled"
    DONE = "done"
    WAITING = "waiting"

    def __str__(self) -> str:
        return str(self.value)
