from enum import IntEnum


class BatchResultStatus(IntEnum):
    VALUE_202 = 202
    VALUE_409 = 409
    VALUE_422 = 422

    def __str__(self) -> str:
        return str(self.value)
