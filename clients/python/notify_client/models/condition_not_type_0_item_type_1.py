from enum import StrEnum


class ConditionNotType0ItemType1(StrEnum):
    CLICKED = "clicked"
    OPENED = "opened"
    READ = "read"

    def __str__(self) -> str:
        return str(self.value)
