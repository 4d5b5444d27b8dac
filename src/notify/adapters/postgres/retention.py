"""What the tick deletes when rows have been kept long enough (notify.retention): set-wise, a bounded
batch per statement, each on an index (migration 0005)."""

from datetime import datetime

from notify.adapters.postgres.database import Repository

# A notification in one of these is still on its way: never deleted, however old.
_UNFINISHED = "('queued', 'retrying', 'sending', 'deferred', 'held')"


class PostgresRetention(Repository):
    def _deleted(self, sql: str, before: datetime, limit: int) -> int:
        with self._connection() as conn:
            return conn.execute(sql, {"before": before, "limit": limit}).rowcount

    def delete_published_outbox(self, before: datetime, limit: int) -> int:
        return self._deleted(
            """
            DELETE FROM outbox WHERE message_id IN (
                SELECT message_id FROM outbox
                WHERE published_at < %(before)s AND parked_at IS NULL
                LIMIT %(limit)s)
            """,
            before,
            limit,
        )

    def delete_finished_notifications(self, before: datetime, limit: int) -> int:
        notifications = self._deleted(
            f"""
            DELETE FROM notifications WHERE ctid = ANY(ARRAY(
                SELECT n.ctid FROM events e JOIN notifications n USING (event_id)
                WHERE e.received_at < %(before)s AND e.fan_out_complete IS NOT FALSE
                  AND n.status NOT IN {_UNFINISHED}
                LIMIT %(limit)s))
            """,
            before,
            limit,
        )
        # Finished runs go with their event's notifications; a run still waiting keeps its event.
        self._deleted(
            """
            DELETE FROM workflow_runs WHERE ctid = ANY(ARRAY(
                SELECT r.ctid FROM events e JOIN workflow_runs r USING (event_id)
                WHERE e.received_at < %(before)s AND r.state <> 'waiting'
                LIMIT %(limit)s))
            """,
            before,
            limit,
        )
        # An event goes with its last notification (its counts with it: ON DELETE CASCADE). One still
        # fanning out to its audience stays, and so does the event of a schedule (status `scheduled`:
        # it has no notification of its own, and cancelling it is how its schedule stops).
        self._deleted(
            """
            DELETE FROM events WHERE event_id IN (
                SELECT e.event_id FROM events e
                WHERE e.received_at < %(before)s AND e.fan_out_complete IS NOT FALSE
                  AND e.status <> 'scheduled'
                  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_id = e.event_id)
                  AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.event_id = e.event_id)
                LIMIT %(limit)s)
            """,
            before,
            limit,
        )
        return notifications

    def delete_feedback(self, before: datetime, limit: int) -> int:
        return self._deleted(
            """
            DELETE FROM delivery_feedback WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM delivery_feedback WHERE received_at < %(before)s LIMIT %(limit)s))
            """,
            before,
            limit,
        )
