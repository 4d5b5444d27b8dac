"""Periodic syncs (the carrier's SMS opt-outs): when each last ran, and the claim of whoever runs it.

One row per sync. The claim is one statement: the row is inserted, or updated only when the sync is
due and unheld, so two ticks at the same time serialize on the row and the second finds it held.
"""

from datetime import datetime, timedelta

from notify.adapters.postgres.database import Repository

_CLAIM_SQL = """
INSERT INTO periodic_syncs AS s (name, claimed_until) VALUES (%(name)s, %(until)s)
ON CONFLICT (name) DO UPDATE SET claimed_until = EXCLUDED.claimed_until
WHERE (s.last_run_at IS NULL OR s.last_run_at <= %(due)s)
  AND (s.claimed_until IS NULL OR s.claimed_until <= %(now)s)
RETURNING name
"""

_FINISH_SQL = """
UPDATE periodic_syncs
SET claimed_until = NULL, last_run_at = CASE WHEN %(done)s THEN %(now)s ELSE last_run_at END
WHERE name = %(name)s AND claimed_until = %(until)s
"""


class PostgresSyncClaims(Repository):
    """SyncClaims."""

    def claim_sync(self, name: str, now: datetime, every: timedelta, lease: timedelta) -> bool:
        with self._connection() as conn:
            row = conn.execute(
                _CLAIM_SQL, {"name": name, "until": now + lease, "due": now - every, "now": now}
            ).fetchone()
        return row is not None

    def finish_sync(self, name: str, now: datetime, lease: timedelta, *, done: bool) -> None:
        # The claim's end is its token: a claim taken later by another caller ends elsewhere.
        with self._connection() as conn:
            conn.execute(_FINISH_SQL, {"name": name, "until": now + lease, "now": now, "done": done})
