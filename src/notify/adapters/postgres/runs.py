"""Workflow runs: the due ones claimed and advanced in one transaction each, and a run's view.

The claim is the row lock: due runs are selected FOR UPDATE SKIP LOCKED (a concurrent tick takes
others), with their event's row FOR SHARE (a cancel, which updates it, waits for the batch to commit
and then cancels what the batch made; a batch never sees a cancelled event as live). What a run does
is written in the same transaction, so a run crashed mid-batch did nothing and is taken again, and
each step is taken once."""

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from notify.adapters.postgres.database import Repository
from notify.adapters.postgres.messages import CONTACT_SQL, store_messages_for_rows
from notify.channels import Channel
from notify.workflows import (
    AdvancedRuns,
    DueRun,
    RunDecision,
    RunRecord,
    RunState,
    SendFacts,
    outcome_of,
)

_DUE_SQL = """
SELECT r.event_id, r.user_id, r.position, r.since, r.trying, r.waits_on, e.event_type,
       coalesce(e.workflow_version, 1),
       e.status = 'cancelled'
FROM workflow_runs r JOIN events e USING (event_id)
WHERE r.state = 'waiting' AND r.wake_at <= %(now)s
ORDER BY r.wake_at
LIMIT %(limit)s
FOR UPDATE OF r SKIP LOCKED
FOR SHARE OF e SKIP LOCKED
"""

# What is known of the runs' sends: each looked up by its whole key (the workflow knows which steps
# send on which channels), so the read costs the keys, not the event's rows.
_FACTS_SQL = """
SELECT n.event_id, n.user_id, n.step, n.channel, n.status,
       n.opened_at IS NOT NULL, n.clicked_at IS NOT NULL, n.read_at IS NOT NULL
FROM unnest(%(events)s::uuid[], %(channels)s::text[], %(users)s::uuid[], %(steps)s::int[])
    AS k(event_id, channel, user_id, step)
JOIN notifications n USING (event_id, channel, user_id, step)
"""

# The sends the batch makes: a row each, queued, or skipped at once where the directory has no contact
# on the channel (which wakes the run again: a first-that-works step tries its next channel).
_SENDS_SQL = f"""
WITH wanted AS (
    SELECT * FROM unnest(%(events)s::uuid[], %(channels)s::text[], %(users)s::uuid[], %(steps)s::int[])
        AS w(event_id, channel, user_id, step)
),
made AS (
    INSERT INTO notifications (event_id, channel, user_id, step, status, reason, screened_at)
    SELECT w.event_id, w.channel, w.user_id, w.step,
           CASE WHEN {CONTACT_SQL.format(channel="w.channel")} IS NULL THEN 'skipped' ELSE 'queued' END,
           CASE WHEN {CONTACT_SQL.format(channel="w.channel")} IS NULL THEN 'no_contact' END,
           CASE WHEN {CONTACT_SQL.format(channel="w.channel")} IS NULL THEN %(now)s END
    FROM wanted w LEFT JOIN directory_users u ON u.user_id = w.user_id
    ON CONFLICT DO NOTHING
    RETURNING event_id, channel, user_id, step, status
)
-- (The event's row is not updated here: concurrent batches share it, and its notifications are counted
-- from its rows when it is read.)
SELECT event_id, channel, user_id, step, status FROM made
"""

_UPDATE_RUNS_SQL = """
UPDATE workflow_runs r
SET position = d.position, since = d.since, trying = d.trying, waits_on = d.waits_on, state = d.state,
    wake_at = CASE WHEN d.woken THEN %(now)s ELSE d.wake_at END,
    history = r.history || d.history, updated_at = %(now)s
FROM unnest(%(events)s::uuid[], %(users)s::uuid[], %(positions)s::int[], %(sinces)s::timestamptz[],
            %(tryings)s::int[], %(waits)s::int[], %(states)s::text[], %(wakes)s::timestamptz[],
            %(histories)s::jsonb[], %(woken)s::bool[])
    AS d(event_id, user_id, position, since, trying, waits_on, state, wake_at, history, woken)
WHERE (r.event_id, r.user_id) = (d.event_id, d.user_id)
"""


class PostgresRuns(Repository):
    """RunStore."""

    def advance_due_runs(
        self,
        now: datetime,
        limit: int,
        sends_of: Callable[[str, int], list[tuple[int, Channel]]],
        decide: Callable[[list[DueRun]], list[RunDecision]],
        queues: Mapping[str, str],
        chunk_size: int,
    ) -> AdvancedRuns:
        with self._connection() as conn:
            conn.execute("SELECT set_config('jit', 'off', true)")
            claimed = conn.execute(_DUE_SQL, {"now": now, "limit": limit}).fetchall()
            if not claimed:
                return AdvancedRuns(claimed=0, sends=0)
            keys = [
                (event_id, str(channel), user_id, step)
                for event_id, user_id, *_, event_type, version, _cancelled in claimed
                for step, channel in sends_of(event_type, version)
            ]
            facts: dict[tuple[uuid.UUID, uuid.UUID], dict[tuple[int, Channel], SendFacts]] = {}
            for event_id, user_id, step, channel, status, opened, clicked, read in conn.execute(
                _FACTS_SQL, _columns(keys)
            ):
                engagement = frozenset(
                    name for name, seen in (("opened", opened), ("clicked", clicked), ("read", read)) if seen
                )
                facts.setdefault((event_id, user_id), {})[(step, Channel(channel))] = SendFacts(
                    outcome_of(status), engagement
                )
            due = [
                DueRun(
                    event_id,
                    user_id,
                    event_type,
                    version,
                    RunState(position, since, trying, waits_on),
                    facts.get((event_id, user_id), {}),
                    cancelled,
                )
                for (
                    event_id,
                    user_id,
                    position,
                    since,
                    trying,
                    waits_on,
                    event_type,
                    version,
                    cancelled,
                ) in claimed
            ]
            decisions = decide(due)
            wanted = [
                (d.event_id, str(channel), d.user_id, step) for d in decisions for step, channel in d.sends
            ]
            made = conn.execute(_SENDS_SQL, {**_columns(wanted), "now": now}).fetchall() if wanted else []
            skipped = {(row[0], row[2]) for row in made if row[4] == "skipped"}
            conn.execute(_UPDATE_RUNS_SQL, _run_columns(decisions, skipped, now))
            queued = [
                (event_id, channel, user_id, step)
                for event_id, channel, user_id, step, status in made
                if status == "queued"
            ]
            outbox = store_messages_for_rows(
                conn, queued, queues=queues, chunk_size=chunk_size, max_bytes=self._max_message_bytes
            )
        return AdvancedRuns(claimed=len(claimed), sends=len(queued), outbox=outbox)

    def find_run(self, event_id: uuid.UUID, user_id: uuid.UUID) -> RunRecord | None:
        with self._connection() as conn:
            row = conn.execute(
                """
                SELECT r.event_id, r.user_id, e.event_type, coalesce(e.workflow_version, 1), r.state,
                       r.position, r.wake_at, r.history
                FROM workflow_runs r JOIN events e USING (event_id)
                WHERE r.event_id = %s AND r.user_id = %s
                """,
                (event_id, user_id),
            ).fetchone()
        return None if row is None else RunRecord(*row)


def _columns(keys: list[tuple[Any, str, Any, int]]) -> dict[str, list[Any]]:
    return {
        "events": [k[0] for k in keys],
        "channels": [k[1] for k in keys],
        "users": [k[2] for k in keys],
        "steps": [k[3] for k in keys],
    }


def _run_columns(
    decisions: list[RunDecision], skipped: set[tuple[uuid.UUID, uuid.UUID]], now: datetime
) -> dict[str, Any]:
    def state(d: RunDecision) -> str:
        return "cancelled" if d.cancelled else "done" if d.done else "waiting"

    return {
        "now": now,
        "events": [d.event_id for d in decisions],
        "users": [d.user_id for d in decisions],
        "positions": [d.state.position for d in decisions],
        "sinces": [d.state.since for d in decisions],
        "tryings": [d.state.trying for d in decisions],
        "waits": [d.state.waits_on for d in decisions],
        "states": [state(d) for d in decisions],
        "wakes": [None if d.done else d.wake_at for d in decisions],
        "histories": [json.dumps(d.history) for d in decisions],
        # a send skipped for want of a contact has its outcome already: the run goes on at once
        "woken": [not d.done and (d.event_id, d.user_id) in skipped for d in decisions],
    }
