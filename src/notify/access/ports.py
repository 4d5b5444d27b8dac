"""API keys' vocabulary (scopes) and ports: where keys and their request counts are kept."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

# How often a key's last use is written: a warm key costs no write per request.
TOUCH_EVERY = timedelta(minutes=1)


class Scope(StrEnum):
    EVENTS_WRITE = "events:write"
    EVENTS_READ = "events:read"
    SCHEDULES_READ = "schedules:read"
    SCHEDULES_WRITE = "schedules:write"
    DIRECTORY_WRITE = "directory:write"
    PREFERENCES_READ = "preferences:read"
    PREFERENCES_WRITE = "preferences:write"
    SUPPRESSIONS_READ = "suppressions:read"
    SUPPRESSIONS_WRITE = "suppressions:write"
    TOPICS_READ = "topics:read"
    TOPICS_WRITE = "topics:write"
    WORKFLOWS_READ = "workflows:read"
    WORKFLOWS_WRITE = "workflows:write"
    ENGAGEMENT_WRITE = "engagement:write"
    ADMIN = "admin"  # every route, key management included


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as stored: never its secret, only the secret's hash."""

    key_id: str
    name: str
    scopes: frozenset[str]
    rate_per_minute: int | None
    created_at: datetime
    secret_hash: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeys(Protocol):
    def add_key(self, record: ApiKeyRecord) -> None: ...

    def find_key(self, key_id: str) -> ApiKeyRecord | None: ...

    def list_keys(self) -> list[ApiKeyRecord]: ...

    def revoke_key(self, key_id: str, now: datetime) -> bool:
        """False when there is no such key (revoking a revoked key is True: it stays revoked)."""
        ...

    def touch_key(self, key_id: str, now: datetime) -> None:
        """Record a use; written at most once a minute per key."""
        ...


class RateLimits(Protocol):
    def take(
        self, key_id: str, limit: int, now: datetime, window: timedelta, count: int = 1
    ) -> datetime | None:
        """Count `count` uses for the key (a request, or each event of a batch) if no more than
        `limit - count` were counted in the `window` before `now` (across every execution environment)
        and return None; else take nothing and return when enough of them leave the window."""
        ...
