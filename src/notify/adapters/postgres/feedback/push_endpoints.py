"""The SNS platform endpoint of each push token."""

from datetime import datetime

from notify.adapters.postgres.database import Repository


class PostgresPushEndpoints(Repository):
    def find_endpoint(self, token: str) -> str | None:
        with self._connection() as conn:
            row = conn.execute("SELECT endpoint FROM push_endpoints WHERE token = %s", (token,)).fetchone()
        return str(row[0]) if row else None

    def remember_endpoint(self, token: str, endpoint: str, now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                """
                INSERT INTO push_endpoints (token, endpoint, created_at) VALUES (%s, %s, %s)
                ON CONFLICT (token)
                DO UPDATE SET endpoint = excluded.endpoint, created_at = excluded.created_at
                """,
                (token, endpoint, now),
            )

    def forget_endpoint(self, token: str) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM push_endpoints WHERE token = %s", (token,))
