from enum import StrEnum


class ConditionAnyType0ItemType1(StrEnum):
    CLICKED = "clicked"
    OPENED = "opened"
    READ = "read"

    def __str__(self) -> str:
        return str(self.value)
