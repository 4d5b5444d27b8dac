"""The recipient controls' storage in memory: preferences, frequency-cap reservations, verdicts."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from notify.channels import Channel
from notify.delivery.controls import FrequencyCap, Verdict
from notify.delivery.ports import RecipientFacts
from notify.feedback.suppressions import normal_address
from tests.fakes.delivery.ledger import only_first_step
from tests.fakes.tables import FakeTables


class FakeRecipientControls(FakeTables):
    """Frequency caps count reservations in their window, one reservation per user, channel and event."""

    def recipient_facts(self, channel: Channel, contacts: Mapping[uuid.UUID, str | None]) -> RecipientFacts:
        suppressed = {
            user_id
            for user_id, address in contacts.items()
            if address is not None and (str(channel), normal_address(channel, address)) in self.suppressions
        }
        return RecipientFacts(
            {user_id: self.preferences[user_id] for user_id in contacts if user_id in self.preferences},
            suppressed,
        )

    def reserve_sends(
        self,
        event_id: uuid.UUID,
        event_type: str,
        channel: Channel,
        user_ids: Sequence[uuid.UUID],
        cap: FrequencyCap,
        now: datetime,
    ) -> set[uuid.UUID]:
        allowed = set()
        for user_id in dict.fromkeys(user_ids):
            if any(self._once_key(r) == (user_id, channel, event_id) for r in self.reservations):
                allowed.add(user_id)
                continue
            used = sum(
                1
                for who, kind, where, at, _ in self.reservations
                if (who, kind, where) == (user_id, event_type, channel) and at > now - cap.window
            )
            if used < cap.limit:
                self.reservations.append((user_id, event_type, channel, now, event_id))
                allowed.add(user_id)
        return allowed

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
        only_first_step(step)
        written = set()
        for user_id, verdict in verdicts:
            row = self.rows[(event_id, channel, user_id)]
            if row.status != "sending" or row.claim_token != token:
                continue
            row.status, row.reason, row.deliver_after = verdict.status, verdict.reason, verdict.deliver_after
            row.claimed_until, row.claim_token, row.screened_at = None, None, now
            written.add(user_id)
        return written
