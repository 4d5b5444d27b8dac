"""Engagement: what a recipient did with a notification (opened, clicked, read), first seen, from the
app (POST /notifications/{id}/engagement, relayed by the mobile backend) or from the e-mail's tracked
links and open pixel (GET /t/{token}). It is never counted for a notification that was not handed to
the provider, nor for a recipient who is suppressed on its channel or has turned it off (unsubscribed)."""

import contextlib
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from notify.delivery.controls import preferences_from_document
from notify.delivery.models import EngagementTimes
from notify.delivery.ports import EngagementStore, RecipientControls
from notify.delivery.tracking_links import verify_tracking
from notify.delivery.unsubscribe_links import InvalidToken, SigningKeys
from notify.errors import NotFound
from notify.models import StrictModel

Action = Literal["opened", "clicked", "read"]
# What the provider was handed: a notification never sent cannot be opened.
HANDED = frozenset({"sent", "unconfirmed", "delivered", "bounced", "complained"})


class EngagementRequest(StrictModel):
    action: Action


class EngagementView(BaseModel):
    id: uuid.UUID
    recorded: bool  # false: not counted (never sent, or the recipient is suppressed or opted out)
    engagement: EngagementTimes


def record_engagement(
    notification_id: uuid.UUID,
    action: Action,
    *,
    now: datetime,
    store: EngagementStore,
    controls: RecipientControls,
) -> EngagementView:
    """Count `action` once (its first time is kept); a run waiting on this notification is woken."""
    target = store.engagement_target(notification_id)
    if target is None:
        raise NotFound(f"no notification {notification_id}")
    facts = controls.recipient_facts(target.channel, {target.user_id: target.address})
    counted = (
        target.status in HANDED
        and target.user_id not in facts.suppressed
        and preferences_from_document(facts.preferences.get(target.user_id)).allows(
            target.event_type, target.channel
        )
    )
    times = store.mark_engaged(notification_id, action, now) if counted else target.engagement
    return EngagementView(id=notification_id, recorded=counted, engagement=times)


def follow_tracking(
    token: str, *, keys: SigningKeys, now: datetime, store: EngagementStore, controls: RecipientControls
) -> str | None:
    """A tracked link's or the open pixel's token: the engagement counted (when it may be), and the link
    to redirect to (None: the pixel). InvalidToken for a token this service did not sign."""
    tracked = verify_tracking(token, keys=keys)
    # A notification the retention removed counts nothing: its link still goes where it went.
    with contextlib.suppress(NotFound):
        record_engagement(
            tracked.notification_id,
            "clicked" if tracked.url else "opened",
            now=now,
            store=store,
            controls=controls,
        )
    return tracked.url


__all__ = ["EngagementRequest", "EngagementView", "InvalidToken", "follow_tracking", "record_engagement"]
