"""API keys: their hashes, scopes, limits, last use and revocation."""

from datetime import datetime, timedelta
from typing import Any

from notify.access import TOUCH_EVERY, ApiKeyRecord
from notify.adapters.postgres.database import Repository

_COLUMNS = "key_id, name, scopes, rate_per_minute, created_at, secret_hash, last_used_at, revoked_at"


def _record(row: tuple[Any, ...]) -> ApiKeyRecord:
    key_id, name, scopes, rate, created_at, secret_hash, last_used_at, revoked_at = row
    return ApiKeyRecord(
        key_id, name, frozenset(scopes), rate, created_at, secret_hash, last_used_at, revoked_at
    )


class PostgresApiKeys(Repository):
    """ApiKeys and their RateLimits."""

    def add_key(self, record: ApiKeyRecord) -> None:
        with self._connection() as conn:
            conn.execute(
                f"INSERT INTO api_keys ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    record.key_id,
                    record.name,
                    sorted(record.scopes),
                    record.rate_per_minute,
                    record.created_at,
                    record.secret_hash,
                    record.last_used_at,
                    record.revoked_at,
                ),
            )

    def find_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._connection() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE key_id = %s", (key_id,)).fetchone()
        return _record(row) if row else None

    def list_keys(self) -> list[ApiKeyRecord]:
        with self._connection() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at, key_id").fetchall()
        return [_record(row) for row in rows]

    def revoke_key(self, key_id: str, now: datetime) -> bool:
        with self._connection() as conn:
            found = conn.execute(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, %s) WHERE key_id = %s",
                (now, key_id),
            ).rowcount
        return found > 0

    def touch_key(self, key_id: str, now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                "UPDATE api_keys SET last_used_at = %s"
                " WHERE key_id = %s AND (last_used_at IS NULL OR last_used_at < %s)",
                (now, key_id, now - TOUCH_EVERY),
            )

    def take(
        self, key_id: str, limit: int, now: datetime, window: timedelta, count: int = 1
    ) -> datetime | None:
        with self._connection() as conn:
            # The key's row serializes its takers across environments; the count then runs in a
            # statement of its own, so it sees every request a taker before it committed.
            conn.execute("SELECT 1 FROM api_keys WHERE key_id = %s FOR UPDATE", (key_id,))
            since = now - window
            conn.execute("DELETE FROM api_key_hits WHERE key_id = %s AND at <= %s", (key_id, since))
            row = conn.execute(
                "SELECT count(*) FROM api_key_hits WHERE key_id = %s AND at > %s", (key_id, since)
            ).fetchone()
            assert row is not None
            over = row[0] + count - limit
            if over > 0:
                # Free when the `over`-th oldest use leaves the window.
                freed = conn.execute(
                    "SELECT at FROM api_key_hits WHERE key_id = %s AND at > %s ORDER BY at OFFSET %s LIMIT 1",
                    (key_id, since, over - 1),
                ).fetchone()
                return (freed[0] if freed else now) + window
            conn.execute(
                "INSERT INTO api_key_hits (key_id, at) SELECT %s, %s FROM generate_series(1, %s)",
                (key_id, now, count),
            )
        return None
