"""The recipient controls' storage in memory: preferences, frequency-cap reservations, verdicts."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from notify.channels import Channel, EventType
from notify.controls import FrequencyCap, Verdict
from notify.models import (
    PreferencesDocument,
)
from tests.fakes.tables import FakeTables


class FakeRecipientControls(FakeTables):
    """Frequency caps count reservations in their window, one reservation per user, channel and event."""

    def preferences_for(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PreferencesDocument]:
        return {user_id: self.preferences[user_id] for user_id in user_ids if user_id in self.preferences}

    def reserve_sends(
        self,
        event_id: uuid.UUID,
        event_type: EventType,
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
        verdicts: Sequence[tuple[uuid.UUID, Verdict]],
        now: datetime,
    ) -> None:
        for user_id, verdict in verdicts:
            row = self.rows[(event_id, channel, user_id)]
            row.status, row.reason, row.deliver_after = verdict.status, verdict.reason, verdict.deliver_after
            row.claimed_until = None
