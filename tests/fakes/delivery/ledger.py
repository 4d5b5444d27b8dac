"""The delivery ledger in memory, with the claim rules of the real one."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from notify.channels import Channel
from notify.delivery.models import MessagePayload, NotificationMessage
from notify.delivery.ports import Outcome, Pending
from notify.errors import StorageUnavailable
from notify.outbox.ports import OutboundMessage
from tests.fakes.tables import FakeTables, OutboxRow, _utcnow


def only_first_step(step: int) -> None:
    """The fakes keep one row per event, channel and user: a workflow's later steps are PostgreSQL's."""
    if step != 0:
        raise NotImplementedError(f"the fake ledger keeps step 0 only, not step {step}")


class FakeLedger(FakeTables):
    """Claims with a token and a lease, outcomes written only by the claim's holder, hand-backs that
    release rows and queue the remainder in the outbox."""

    def claim(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        *,
        token: uuid.UUID,
        now: datetime,
        until: datetime,
        step: int = 0,
    ) -> set[uuid.UUID]:
        only_first_step(step)
        if self.claim_errors:
            raise self.claim_errors.pop(0)
        claimed = set()
        for user_id in user_ids:
            row = self.rows.get((event_id, channel, user_id))
            if row is None:
                continue
            expired = row.status == "sending" and row.claimed_until is not None and row.claimed_until < now
            exhausted = row.status == "failed" and row.reason == "retries_exhausted"
            # The same attempt asking again (its first claim's answer was lost): its rows, not counted twice.
            own = row.status == "sending" and row.claim_token == token
            if row.status in ("queued", "retrying") or expired or exhausted or own:
                row.attempts += 0 if own else 1
                row.status, row.reason = "sending", None
                row.claimed_until, row.claim_token = until, token
                claimed.add(user_id)
        if self.lost_claim_answers:
            self.lost_claim_answers -= 1
            raise StorageUnavailable("postgres: AdminShutdown (the claim committed, its answer was lost)")
        return claimed

    def record_outcomes(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        outcomes: Sequence[Outcome],
        step: int = 0,
        wake_runs: bool = False,
    ) -> set[uuid.UUID]:
        only_first_step(step)
        self.writes.append(len(outcomes))
        if self.write_errors:
            raise self.write_errors.pop(0)
        written = set()
        for outcome in outcomes:
            row = self.rows[(event_id, channel, outcome.user_id)]
            if row.claim_token != token or row.status != "sending":
                continue
            row.status, row.reason, row.error = outcome.status, outcome.reason, outcome.error
            row.provider_id = outcome.provider_id or row.provider_id
            if outcome.status in ("sent", "unconfirmed"):
                row.sent_at = outcome.at
            if outcome.status == "deferred":
                row.deliver_after = outcome.retry_at
            row.claimed_until = row.claim_token = None
            written.add(outcome.user_id)
        given_back = {
            (user_id, channel, event_id)
            for user_id in written
            if self.rows[(event_id, channel, user_id)].status == "failed"
        }
        self.reservations = [r for r in self.reservations if self._once_key(r) not in given_back]
        return written

    def add_message(self, message: NotificationMessage) -> None:
        """Rows for a message's recipients, as the fan-out stores them, with what a hand-back needs
        to build their message again (the real store reads the directory and the event)."""
        self.add(message.event_id, message.transport_type, [user.user_id for user in message.payload.user])
        self.envelopes[message.event_id] = message
        for user in message.payload.user:
            self.recipients[(message.event_id, message.transport_type, user.user_id)] = user

    def hand_back(
        self,
        event_id: uuid.UUID,
        channel: Channel,
        token: uuid.UUID,
        user_ids: Sequence[uuid.UUID],
        queues: Mapping[str, str],
        step: int = 0,
    ) -> list[OutboundMessage]:
        only_first_step(step)
        released = []
        for user_id in user_ids:
            row = self.rows.get((event_id, channel, user_id))
            if row is not None and row.claim_token == token and row.status == "sending":
                row.status, row.claimed_until, row.claim_token = "queued", None, None
                released.append(user_id)
            elif row is not None and row.status in ("queued", "retrying"):  # nobody claimed it
                released.append(user_id)
        if not released:
            return []
        envelope = self.envelopes.get(event_id)
        assert envelope is not None, "fake: hand_back of rows stored without add_message"
        carried = envelope.model_copy(
            update={
                "message_id": self.new_message_id(),
                "transport_type": channel,
                "payload": MessagePayload(
                    user=[self.recipients[(event_id, channel, user_id)] for user_id in released],
                    content=envelope.payload.content,
                ),
            }
        )
        queued = OutboundMessage(
            carried.message_id, queues[f"{channel}-{envelope.priority}"], carried.model_dump_json().encode()
        )
        self.handed_back.append(queued)
        self.outbox[queued.message_id] = OutboxRow(queued, _utcnow())
        return [queued]

    def pending(
        self, event_id: uuid.UUID, channel: Channel, user_ids: Sequence[uuid.UUID], step: int = 0
    ) -> Pending:
        only_first_step(step)
        if self.pending_errors:
            raise self.pending_errors.pop(0)
        rows = [self.rows[key] for user_id in user_ids if (key := (event_id, channel, user_id)) in self.rows]
        sending = [row for row in rows if row.status == "sending"]
        return Pending(
            waiting=sum(1 for row in rows if row.status in ("queued", "retrying")),
            held_by_others=len(sending),
            held_until=max((row.claimed_until for row in sending if row.claimed_until), default=None),
        )

    def statuses(self) -> dict[uuid.UUID, str]:
        return {user_id: row.status for (_, _, user_id), row in self.rows.items()}
