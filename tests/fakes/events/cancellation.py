"""Cancelling an event in memory, following PostgresCancellations' rules (schedules are not modelled)."""

import uuid
from datetime import datetime

from notify.adapters.postgres.events.cancellation import HANDED_TO_PROVIDER
from notify.events.cancellation import Cancellation
from tests.fakes.tables import FakeTables, Row


def _not_held(row: Row, now: datetime) -> bool:
    return (
        row.status in {"queued", "retrying", "deferred", "held"}
        or (row.status == "sending" and row.claimed_until is not None and row.claimed_until < now)
        or (row.status == "failed" and row.reason == "retries_exhausted")
    )


class FakeCancellations(FakeTables):
    def cancel_event(self, event_id: uuid.UUID, now: datetime) -> Cancellation | None:
        self.check()
        event = self.events.get(event_id)
        if event is None:
            return None
        event.status = "cancelled"
        if event.fan_out_complete is not None:
            event.fan_out_complete = True
        rows = [row for (row_event, _, _), row in self.rows.items() if row_event == event_id]
        for row in rows:
            if _not_held(row, now):
                row.status, row.reason, row.claimed_until, row.claim_token = (
                    "cancelled",
                    "cancelled",
                    None,
                    None,
                )
                row.deliver_after = None
        return Cancellation(
            cancelled=sum(row.status == "cancelled" for row in rows),
            sent=sum(row.status in HANDED_TO_PROVIDER for row in rows),
            in_flight=sum(row.status == "sending" for row in rows),
        )
