from enum import StrEnum


class Scope(StrEnum):
    ADMIN = "admin"
    DIRECTORYWRITE = "directory:write"
    ENGAGEMENTWRITE = "engagement:write"
    EVENTSREAD = "events:read"
    EVENTSWRITE = "events:write"
    PREFERENCESREAD = "preferences:read"
    PREFERENCESWRITE = "preferences:write"
    SCHEDULESREAD = "schedules:read"
    SCHEDULESWRITE = "schedules:write"
    SUPPRESSIONSREAD = "suppressions:read"
    SUPPRESSIONSWRITE = "suppressions:write"
    TOPICSREAD = "topics:read"
    TOPICSWRITE = "topics:write"
    WORKFLOWSREAD = "workflows:read"
    WORKFLOWSWRITE = "workflows:write"

    def __str__(self) -> str:
        return str(self.value)
