"""Engagement: a notification as it is judged, and its first-seen times set once."""

import uuid
from datetime import datetime

from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.messages import CONTACT_SQL, wake_runs_sql
from notify.channels import Channel
from notify.delivery import EngagementTarget, EngagementTimes

_COLUMNS = {"opened": "opened_at", "clicked": "clicked_at", "read": "read_at"}

_TARGET_SQL = f"""
SELECT n.notification_id, n.user_id, n.channel, e.event_type, n.status,
       {CONTACT_SQL.format(channel="n.channel")}, n.opened_at, n.clicked_at, n.read_at
FROM notifications n JOIN events e USING (event_id) LEFT JOIN directory_users u USING (user_id)
WHERE n.notification_id = %(id)s
"""


def _mark_sql(column: str) -> str:
    return f"""
WITH marked AS (
    UPDATE notifications SET {column} = coalesce({column}, %(at)s)
    WHERE notification_id = %(id)s
    RETURNING event_id, user_id, step, opened_at, clicked_at, read_at
),
woken AS ({wake_runs_sql("marked")})
SELECT opened_at, clicked_at, read_at FROM marked
"""


class PostgresEngagement(Repository):
    """EngagementStore."""

    def engagement_target(self, notification_id: uuid.UUID) -> EngagementTarget | None:
        with self._connection() as conn:
            row = conn.execute(_TARGET_SQL, {"id": notification_id}).fetchone()
        if row is None:
            return None
        found, user_id, channel, event_type, status, address, opened, clicked, read = row
        times = EngagementTimes(opened_at=opened, clicked_at=clicked, read_at=read)
        return EngagementTarget(found, user_id, Channel(channel), event_type, status, address, times)

    def mark_engaged(self, notification_id: uuid.UUID, action: str, at: datetime) -> EngagementTimes:
        with self._connection() as conn:
            row = conn.execute(
                _mark_sql(_COLUMNS[action]), {"id": notification_id, "at": at, "wake_runs": True}
            ).fetchone()
        if row is None:
            return EngagementTimes()
        opened, clicked, read = row
        return EngagementTimes(opened_at=opened, clicked_at=clicked, read_at=read)
