"""Delivery: taking one queue message to its recipients. Claims under a lease, recipient controls
(preferences, quiet hours, caps, digests), rendering, parallel provider calls within the time left,
and the outcome per recipient; preferences and signed unsubscribe links.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from typing import TYPE_CHECKING

from notify import lazy_exports

if TYPE_CHECKING:
    from notify.delivery.controls import (
        SUPPRESSED,
        ControlRules,
        FrequencyCap,
        Verdict,
        WorkflowRules,
    )
    from notify.delivery.deliver import (
        DeliveryPolicy,
        DeliveryPorts,
        DeliveryReport,
        deliver_message,
    )
    from notify.delivery.dispatch import (
        DispatchPolicy,
        SendPools,
        TimeLeft,
    )
    from notify.delivery.engagement import (
        EngagementRequest,
        EngagementView,
        follow_tracking,
        record_engagement,
    )
    from notify.delivery.models import (
        Content,
        EngagementTimes,
        NotificationMessage,
        PreferencesDocument,
        Recipient,
    )
    from notify.delivery.ports import (
        DeliveryLedger,
        EngagementStore,
        EngagementTarget,
        Outcome,
        Pending,
        PreferenceStore,
        RecipientControls,
        RecipientFacts,
        ReleasedBatch,
        Rendered,
        RulesBook,
        Sender,
        WaitingNotifications,
    )
    from notify.delivery.preferences import (
        read_preferences,
        replace_preferences,
        unsubscribe,
    )
    from notify.delivery.rendering import (
        TemplateRenderer,
    )
    from notify.delivery.tracking_links import (
        PIXEL,
        PIXEL_SUFFIX,
        InvalidTrackingToken,
        TrackingLinks,
    )
    from notify.delivery.unsubscribe_links import (
        FixedKey,
        InvalidToken,
        SigningKeys,
        UnsubscribeLinks,
        verify_link,
        verify_token,
    )

# Each public name's module, loaded on first use: a model or a port taken from this package (by an
# adapter, the Migrate function) does not load all of its logic and the libraries that logic needs.
_HOMES = {
    "Content": "notify.delivery.models",
    "ControlRules": "notify.delivery.controls",
    "DeliveryLedger": "notify.delivery.ports",
    "DeliveryPolicy": "notify.delivery.deliver",
    "DeliveryPorts": "notify.delivery.deliver",
    "DeliveryReport": "notify.delivery.deliver",
    "DispatchPolicy": "notify.delivery.dispatch",
    "EngagementRequest": "notify.delivery.engagement",
    "EngagementStore": "notify.delivery.ports",
    "EngagementTarget": "notify.delivery.ports",
    "EngagementTimes": "notify.delivery.models",
    "EngagementView": "notify.delivery.engagement",
    "FixedKey": "notify.delivery.unsubscribe_links",
    "FrequencyCap": "notify.delivery.controls",
    "InvalidToken": "notify.delivery.unsubscribe_links",
    "InvalidTrackingToken": "notify.delivery.tracking_links",
    "NotificationMessage": "notify.delivery.models",
    "Outcome": "notify.delivery.ports",
    "PIXEL": "notify.delivery.tracking_links",
    "PIXEL_SUFFIX": "notify.delivery.tracking_links",
    "Pending": "notify.delivery.ports",
    "PreferenceStore": "notify.delivery.ports",
    "PreferencesDocument": "notify.delivery.models",
    "Recipient": "notify.delivery.models",
    "RecipientControls": "notify.delivery.ports",
    "RecipientFacts": "notify.delivery.ports",
    "ReleasedBatch": "notify.delivery.ports",
    "Rendered": "notify.delivery.ports",
    "RulesBook": "notify.delivery.ports",
    "SUPPRESSED": "notify.delivery.controls",
    "SendPools": "notify.delivery.dispatch",
    "Sender": "notify.delivery.ports",
    "SigningKeys": "notify.delivery.unsubscribe_links",
    "TemplateRenderer": "notify.delivery.rendering",
    "TimeLeft": "notify.delivery.dispatch",
    "TrackingLinks": "notify.delivery.tracking_links",
    "UnsubscribeLinks": "notify.delivery.unsubscribe_links",
    "Verdict": "notify.delivery.controls",
    "WaitingNotifications": "notify.delivery.ports",
    "WorkflowRules": "notify.delivery.controls",
    "deliver_message": "notify.delivery.deliver",
    "follow_tracking": "notify.delivery.engagement",
    "read_preferences": "notify.delivery.preferences",
    "record_engagement": "notify.delivery.engagement",
    "replace_preferences": "notify.delivery.preferences",
    "unsubscribe": "notify.delivery.preferences",
    "verify_link": "notify.delivery.unsubscribe_links",
    "verify_token": "notify.delivery.unsubscribe_links",
}

__all__ = [
    "PIXEL",
    "PIXEL_SUFFIX",
    "SUPPRESSED",
    "Content",
    "ControlRules",
    "DeliveryLedger",
    "DeliveryPolicy",
    "DeliveryPorts",
    "DeliveryReport",
    "DispatchPolicy",
    "EngagementRequest",
    "EngagementStore",
    "EngagementTarget",
    "EngagementTimes",
    "EngagementView",
    "FixedKey",
    "FrequencyCap",
    "InvalidToken",
    "InvalidTrackingToken",
    "NotificationMessage",
    "Outcome",
    "Pending",
    "PreferenceStore",
    "PreferencesDocument",
    "Recipient",
    "RecipientControls",
    "RecipientFacts",
    "ReleasedBatch",
    "Rendered",
    "RulesBook",
    "SendPools",
    "Sender",
    "SigningKeys",
    "TemplateRenderer",
    "TimeLeft",
    "TrackingLinks",
    "UnsubscribeLinks",
    "Verdict",
    "WaitingNotifications",
    "WorkflowRules",
    "deliver_message",
    "follow_tracking",
    "read_preferences",
    "record_engagement",
    "replace_preferences",
    "unsubscribe",
    "verify_link",
    "verify_token",
]


__getattr__ = lazy_exports(__name__, _HOMES)
