"""API keys and their rate limits in memory, as PostgresApiKeys keeps them."""

from dataclasses import replace
from datetime import datetime, timedelta

from notify.access.keys import issue_key
from notify.access.ports import ApiKeyRecord, ApiKeys
from tests.fakes.tables import FakeTables


class FakeApiKeys(FakeTables):
    """Keys by id; `touches` counts the writes of last use (at most one a minute per key)."""

    def add_key(self, record: ApiKeyRecord) -> None:
        assert record.key_id not in self.api_keys, "fake: duplicate key id"
        self.api_keys[record.key_id] = record

    def find_key(self, key_id: str) -> ApiKeyRecord | None:
        return self.api_keys.get(key_id)

    def list_keys(self) -> list[ApiKeyRecord]:
        return sorted(self.api_keys.values(), key=lambda record: (record.created_at, record.key_id))

    def revoke_key(self, key_id: str, now: datetime) -> bool:
        record = self.api_keys.get(key_id)
        if record is None:
            return False
        if record.revoked_at is None:
            self.api_keys[key_id] = replace(record, revoked_at=now)
        return True

    def touch_key(self, key_id: str, now: datetime) -> None:
        record = self.api_keys[key_id]
        if record.last_used_at is None or record.last_used_at < now - timedelta(minutes=1):
            self.api_keys[key_id] = replace(record, last_used_at=now)
            self.touches += 1

    def take(
        self, key_id: str, limit: int, now: datetime, window: timedelta, count: int = 1
    ) -> datetime | None:
        recent = sorted(at for at in self.key_hits.get(key_id, []) if at > now - window)
        self.key_hits[key_id] = recent
        over = len(recent) + count - limit
        if over > 0:
            return recent[over - 1] + window
        self.key_hits[key_id] = [*recent, *[now] * count]
        return None


# The key the sample requests of events/ carry (make invoke swaps in the local stack's own key).
SAMPLE_KEY_ID = "000000000000"
SAMPLE_SECRET = "sample_key_for_events_json_files_not_secret"
SAMPLE_KEY = f"nk_{SAMPLE_KEY_ID}_{SAMPLE_SECRET}"


def add_sample_key(keys: ApiKeys, now: datetime, scopes: tuple[str, ...] = ("admin",)) -> str:
    """Store SAMPLE_KEY (no rate limit) with these scopes; returns the key."""
    issue_key(
        "sample requests",
        scopes,
        None,
        now=now,
        keys=keys,
        random_hex=lambda _: SAMPLE_KEY_ID,
        random_secret=lambda _: SAMPLE_SECRET,
    )
    return SAMPLE_KEY
