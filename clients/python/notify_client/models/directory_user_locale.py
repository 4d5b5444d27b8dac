from enum import StrEnum


class DirectoryUserLocale(StrEnum):
    EN = "en"
    RU = "ru"

    def __str__(self) -> str:
        return str(self.value)
