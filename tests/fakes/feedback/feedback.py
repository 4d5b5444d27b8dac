"""Delivery feedback and the suppression list in memory, by PostgresFeedback's rules: statuses move on
by rank only, a copy of a feedback changes nothing, an address keeps its first reason."""

import base64
from collections.abc import Sequence
from datetime import datetime

from notify.feedback.models import SuppressionPage, SuppressionView
from notify.feedback.ports import DeliveryCounts, Suppression
from notify.feedback.ses_events import Feedback, FeedbackKind
from notify.feedback.suppressions import normal_address
from tests.fakes.tables import FakeTables

_RANK = {"sent": 0, "unconfirmed": 0, "delivered": 1, "bounced": 2, "complained": 3}
# A handed-over row's status → the figure it counts in.
_HANDED = {
    "sent": "sent",
    "unconfirmed": "sent",
    "delivered": "delivered",
    "bounced": "bounced",
    "complained": "complained",
}
_OUTCOME = {
    FeedbackKind.DELIVERED: ("delivered", 1),
    FeedbackKind.BOUNCED: ("bounced", 2),
    FeedbackKind.REJECTED: ("failed", 2),
    FeedbackKind.COMPLAINED: ("complained", 3),
}


class FakeFeedback(FakeTables):
    def record_feedback(self, items: Sequence[Feedback], now: datetime) -> int:
        self.check()
        for item in items:
            key = (item.provider_message_id, str(item.kind), normal_address("email", item.address))
            self.feedback.setdefault(key, (item, now))
        changed = 0
        wanted = {item.provider_message_id for item in items}
        for row in self.rows.values():
            if row.provider_id not in wanted or _RANK.get(row.status) is None:
                continue
            stored = [
                f for (message_id, _, _), (f, _) in self.feedback.items() if message_id == row.provider_id
            ]
            best = max(stored, key=lambda f: _OUTCOME[f.kind][1])
            status, rank = _OUTCOME[best.kind]
            if _RANK[row.status] < rank:
                row.status = status
                row.reason = "provider_rejected" if best.kind == FeedbackKind.REJECTED else best.reason
                row.error = best.diagnostic or row.error
                changed += 1
        return changed

    def soft_bounces_since(self, addresses: Sequence[str], since: datetime) -> dict[str, int]:
        wanted = {normal_address("email", address) for address in addresses}
        counts: dict[str, set[str]] = {}
        for (message_id, _, address), (item, received_at) in self.feedback.items():
            if address in wanted and item.reason == "soft_bounce" and received_at > since:
                counts.setdefault(address, set()).add(message_id)
        return {address: len(ids) for address, ids in counts.items()}

    def delivery_counts(self, since: datetime, until: datetime) -> list[DeliveryCounts]:
        """As PostgresFeedback: rows handed over in the window by sent_at, suppressed ones by
        screened_at; rows of an event the tables do not hold have no event type and are left out."""
        counts: dict[tuple[str, str], dict[str, int]] = {}
        for (event_id, channel, _), row in self.rows.items():
            event = self.events.get(event_id)
            figure = None
            if row.status in _HANDED and row.sent_at is not None and since <= row.sent_at <= until:
                figure = _HANDED[row.status]
            elif row.status == "skipped" and row.reason == "suppressed" and row.screened_at is not None:
                figure = "suppressed" if since <= row.screened_at <= until else None
            if figure is not None and event is not None:
                group = counts.setdefault((str(channel), str(event.event_type)), {})
                group[figure] = group.get(figure, 0) + 1
        return [
            DeliveryCounts(channel, kind, **figures) for (channel, kind), figures in sorted(counts.items())
        ]

    def suppress(self, entries: Sequence[Suppression]) -> int:
        added = 0
        for entry in entries:
            key = (entry.channel, normal_address(entry.channel, entry.address))
            if key not in self.suppressions:
                self.suppressions[key] = Suppression(entry.channel, key[1], entry.reason, entry.created_at)
                added += 1
        return added

    def find_suppression(self, channel: str, address: str) -> Suppression | None:
        return self.suppressions.get((channel, normal_address(channel, address)))

    def remove_suppression(self, channel: str, address: str) -> bool:
        return self.suppressions.pop((channel, normal_address(channel, address)), None) is not None

    def suppressions_page(self, channel: str | None, limit: int, cursor: str | None) -> SuppressionPage:
        after = tuple(base64.urlsafe_b64decode(cursor).decode().split(":", 1)) if cursor else None
        keys = sorted(
            k
            for k in self.suppressions
            if (channel is None or k[0] == channel) and (after is None or k > after)
        )
        page, more = keys[:limit], len(keys) > limit
        items = [
            SuppressionView(channel=e.channel, address=e.address, reason=e.reason, created_at=e.created_at)
            for e in (self.suppressions[k] for k in page)
        ]
        next_cursor = base64.urlsafe_b64encode(":".join(page[-1]).encode()).decode() if more else None
        return SuppressionPage(items=items, next_cursor=next_cursor)
