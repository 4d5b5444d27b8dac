"""Delivery feedback: what providers said of sent messages moves notifications on, and addresses that
bounce hard, complain or keep bouncing join the suppression list."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from notify.feedback.ports import FeedbackStore, Suppression, Suppressions
from notify.feedback.ses_events import COMPLAINT, HARD_BOUNCE, SOFT_BOUNCE, Feedback
from notify.feedback.suppressions import normal_address

EMAIL = "email"
SOFT_BOUNCES = "soft_bounces"


@dataclass(frozen=True)
class SuppressionPolicy:
    """Soft bounces (a full mailbox, a server away) suppress an address only when they repeat."""

    soft_bounce_limit: int = 3
    soft_bounce_window: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class FeedbackReport:
    received: int
    changed: int
    suppressed: int


def take_feedback(
    items: Sequence[Feedback],
    *,
    store: FeedbackStore,
    suppressions: Suppressions,
    now: datetime,
    policy: SuppressionPolicy,
) -> FeedbackReport:
    """Record the feedback (a copy seen before changes nothing) and suppress the addresses it
    condemns: at once on a hard bounce or a complaint, on the limit's soft bounce in the window."""
    changed = store.record_feedback(items, now)
    condemned = {
        normal_address(EMAIL, f.address): str(f.reason) for f in items if f.reason in {HARD_BOUNCE, COMPLAINT}
    }
    softly = sorted(
        {normal_address(EMAIL, f.address) for f in items if f.reason == SOFT_BOUNCE} - set(condemned)
    )
    counts = store.soft_bounces_since(softly, now - policy.soft_bounce_window)
    condemned |= {
        address: SOFT_BOUNCES for address in softly if counts.get(address, 0) >= policy.soft_bounce_limit
    }
    entries = [Suppression(EMAIL, address, reason, now) for address, reason in sorted(condemned.items())]
    return FeedbackReport(received=len(items), changed=changed, suppressed=suppressions.suppress(entries))
