from enum import StrEnum


class EngagementRequestAction(StrEnum):
    CLICKED = "clicked"
    OPENED = "opened"
    READ = "read"

    def __str__(self) -> str:
        return str(self.value)
