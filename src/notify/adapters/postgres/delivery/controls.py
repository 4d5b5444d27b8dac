"""Recipient controls: preferences, verdicts other than send, frequency-cap reservations."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from psycopg.types.json import Jsonb

from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.messages import wake_runs_sql
from notify.channels import Channel
from notify.delivery import FrequencyCap, PreferencesDocument, RecipientFacts, Verdict
from notify.feedback import normal_address

# Outcomes other than "send", written for a whole message at once, by the attempt holding the claim
# only (an attempt whose lease ran out must not overwrite the one that took the rows over). A like
# held for a digest joins the window already open for the same recipient, channel and movie, if any.
_RECORD_VERDICTS_SQL = """
WITH verdict AS (
    SELECT * FROM unnest(%(user_ids)s::uuid[], %(statuses)s::text[], %(reasons)s::text[],
                         %(after)s::timestamptz[]) AS v(user_id, status, reason, deliver_after)
),
event AS (SELECT event_type, content -> 0 ->> 'movie_id' AS movie FROM events WHERE event_id = %(event_id)s)
UPDATE notifications n
SET status = v.status, reason = v.reason, claimed_until = NULL, claim_token = NULL, screened_at = %(now)s,
    deliver_after = CASE WHEN v.status = 'held' THEN coalesce((
        SELECT min(h.deliver_after) FROM notifications h JOIN events he ON he.event_id = h.event_id, event
        WHERE h.status = 'held' AND h.user_id = v.user_id AND h.channel = n.channel
          AND h.deliver_after > %(now)s AND he.event_type = event.event_type
          AND he.content -> 0 ->> 'movie_id' IS NOT DISTINCT FROM event.movie
    ), v.deliver_after) ELSE v.deliver_after END
FROM verdict v
WHERE n.event_id = %(event_id)s AND n.channel = %(channel)s AND n.step = %(step)s AND n.user_id = v.user_id
  AND n.status = 'sending' AND n.claim_token = %(token)s
RETURNING n.user_id, n.event_id, n.step, n.status
"""
# The verdicts as one statement that also wakes the runs whose send just ended (skipped, expired).
_RECORD_VERDICTS_WAKING_SQL = f"""
WITH written AS ({_RECORD_VERDICTS_SQL}),
woken AS ({wake_runs_sql("written", "w.status NOT IN ('deferred', 'held')")})
SELECT user_id FROM written
"""


# Frequency caps: per recipient a transaction-scoped lock first (taken in one order, so
# concurrent senders cannot deadlock), then, in a later statement whose snapshot sees every
# reservation committed before the lock was granted, count and reserve. Two senders cannot
# both slip under the cap.
_LOCK_CAP_COUNTERS_SQL = """
SELECT pg_advisory_xact_lock(
    hashtextextended(user_id::text || '/' || %(event_type)s || '/' || %(channel)s, 7264002))
FROM (SELECT DISTINCT unnest(%(user_ids)s::uuid[]) AS user_id ORDER BY 1) ids
"""


_RESERVE_SENDS_SQL = """
WITH ids AS (SELECT DISTINCT unnest(%(user_ids)s::uuid[]) AS user_id),
already AS (
    SELECT r.user_id FROM frequency_reservations r JOIN ids USING (user_id)
    WHERE r.event_id = %(event_id)s AND r.channel = %(channel)s
),
fresh AS (
    INSERT INTO frequency_reservations (user_id, event_type, channel, event_id, reserved_at)
    SELECT ids.user_id, %(event_type)s, %(channel)s, %(event_id)s, %(now)s
    FROM ids
    WHERE ids.user_id NOT IN (SELECT user_id FROM already)
      AND (SELECT count(*) FROM frequency_reservations r
           WHERE r.user_id = ids.user_id AND r.event_type = %(event_type)s AND r.channel = %(channel)s
             AND r.reserved_at > %(since)s) < %(limit)s
    RETURNING user_id
)
SELECT user_id FROM already UNION SELECT user_id FROM fresh
"""


# Preferences and the suppression list in one read: only recipients with either come back. The list is
# probed by its key, once per recipient (LATERAL … LIMIT 1): a plain join is hashed over a scan of the whole
# list on every message, which made 10,000 suppressed addresses cost 3 ms a message and grew with the list.
_RECIPIENT_FACTS_SQL = """
SELECT r.user_id, p.document, s.suppressed IS NOT NULL AS suppressed
FROM unnest(%(user_ids)s::uuid[], %(addresses)s::text[]) AS r (user_id, address)
LEFT JOIN user_preferences p ON p.user_id = r.user_id
LEFT JOIN LATERAL (
    SELECT true AS suppressed FROM suppressions s
    WHERE s.channel = %(channel)s AND s.address = r.address LIMIT 1
) s ON true
WHERE p.document IS NOT NULL OR s.suppressed IS NOT NULL
"""


class PostgresRecipientControls(Repository):
    """RecipientControls and PreferenceStore."""

    def get_preferences(self, user_id: uuid.UUID) -> PreferencesDocument | None:
        with self._connection() as conn:
            row = conn.execute(
                """
                SELECT p.document FROM directory_users u
                LEFT JOIN user_preferences p USING (user_id) WHERE u.user_id = %s
                """,
                (user_id,),
            ).fetchone()
        if row is None:
            return None
        return PreferencesDocument.model_validate(row[0]) if row[0] else PreferencesDocument()

    def put_preferences(self, user_id: uuid.UUID, document: PreferencesDocument) -> bool:
        with self._connection() as conn:
            stored = conn.execute(
                """
                INSERT INTO user_preferences (user_id, document, updated_at)
                SELECT user_id, %s, now() FROM directory_users WHERE user_id = %s
                ON CONFLICT (user_id) DO UPDATE SET document = EXCLUDED.document, updated_at = now()
                RETURNING user_id
                """,
                (Jsonb(document.model_dump(mode="json")), user_id),
            ).fetchone()
        return stored is not None

    def recipient_facts(self, channel: Channel, contacts: Mapping[uuid.UUID, str | None]) -> RecipientFacts:
        """Stored preference documents (the others use the defaults) and suppressed addresses, in one read."""
        with self._connection() as conn:
            rows = conn.execute(
                _RECIPIENT_FACTS_SQL,
                {
                    "channel": str(channel),
                    "user_ids": list(contacts),
                    "addresses": [
                        None if address is None else normal_address(channel, address)
                        for address in contacts.values()
                    ],
                },
            ).fetchall()
        return RecipientFacts(
            {row[0]: PreferencesDocument.model_validate(row[1]) for row in rows if row[1] is not None},
            {row[0] for row in rows if row[2]},
        )

    def record_verdicts(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        verdicts: Sequence[tuple[uuid.UUID, Verdict]],
        now: datetime,
        step: int = 0,
        wake_runs: bool = False,
    ) -> set[uuid.UUID]:
        if not verdicts:
            return set()
        with self._connection() as conn:
            rows = conn.execute(
                _RECORD_VERDICTS_WAKING_SQL if wake_runs else _RECORD_VERDICTS_SQL,
                {
                    "wake_runs": wake_runs,
                    "event_id": event_id,
                    "channel": str(channel),
                    "step": step,
                    "token": token,
                    "now": now,
                    "user_ids": [user_id for user_id, _ in verdicts],
                    "statuses": [verdict.status for _, verdict in verdicts],
                    "reasons": [verdict.reason for _, verdict in verdicts],
                    "after": [verdict.deliver_after for _, verdict in verdicts],
                },
            ).fetchall()
        return {row[0] for row in rows}

    def reserve_sends(
        self,
        event_id: uuid.UUID,
        event_type: str,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        cap: FrequencyCap,
        now: datetime,
    ) -> set[uuid.UUID]:
        if not user_ids:
            return set()
        parameters = {
            "event_id": event_id,
            "event_type": str(event_type),
            "channel": str(channel),
            "user_ids": list(user_ids),
            "since": now - cap.window,
            "limit": cap.limit,
            "now": now,
        }
        with self._connection() as conn:
            conn.execute(_LOCK_CAP_COUNTERS_SQL, parameters)
            rows = conn.execute(_RESERVE_SENDS_SQL, parameters).fetchall()
        return {row[0] for row in rows}
