"""Feedback: what providers say of sent messages. SES events move notifications on and feed the
suppression list, carriers' SMS opt-outs join it, and the delivery stats count the outcomes.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from typing import TYPE_CHECKING

from notify import lazy_exports

if TYPE_CHECKING:
    from notify.feedback.intake import FeedbackReport, SuppressionPolicy, take_feedback
    from notify.feedback.models import StatsView, SuppressionPage, SuppressionRequest, SuppressionView
    from notify.feedback.opt_outs import OptOutReport, SmsOptOuts, sync_sms_opt_outs
    from notify.feedback.ports import (
        DeliveryCounts,
        DeliveryStats,
        FeedbackStore,
        OptedOutNumbers,
        PushEndpoints,
        Suppression,
        Suppressions,
        SyncClaims,
    )
    from notify.feedback.ses_events import Feedback, FeedbackKind, parse_feedback
    from notify.feedback.stats import delivery_stats
    from notify.feedback.suppressions import (
        MAX_ADDRESS,
        add_suppression,
        lift_suppression,
        normal_address,
        page_suppressions,
    )

# Each public name's module, loaded on first use: a model or a port taken from this package (by an
# adapter, the Migrate function) does not load all of its logic and the libraries that logic needs.
_HOMES = {
    "DeliveryCounts": "notify.feedback.ports",
    "DeliveryStats": "notify.feedback.ports",
    "Feedback": "notify.feedback.ses_events",
    "FeedbackKind": "notify.feedback.ses_events",
    "FeedbackReport": "notify.feedback.intake",
    "FeedbackStore": "notify.feedback.ports",
    "MAX_ADDRESS": "notify.feedback.suppressions",
    "OptOutReport": "notify.feedback.opt_outs",
    "OptedOutNumbers": "notify.feedback.ports",
    "PushEndpoints": "notify.feedback.ports",
    "SmsOptOuts": "notify.feedback.opt_outs",
    "StatsView": "notify.feedback.models",
    "Suppression": "notify.feedback.ports",
    "SuppressionPage": "notify.feedback.models",
    "SuppressionPolicy": "notify.feedback.intake",
    "SuppressionRequest": "notify.feedback.models",
    "SuppressionView": "notify.feedback.models",
    "Suppressions": "notify.feedback.ports",
    "SyncClaims": "notify.feedback.ports",
    "add_suppression": "notify.feedback.suppressions",
    "delivery_stats": "notify.feedback.stats",
    "lift_suppression": "notify.feedback.suppressions",
    "normal_address": "notify.feedback.suppressions",
    "page_suppressions": "notify.feedback.suppressions",
    "parse_feedback": "notify.feedback.ses_events",
    "sync_sms_opt_outs": "notify.feedback.opt_outs",
    "take_feedback": "notify.feedback.intake",
}

__all__ = [
    "MAX_ADDRESS",
    "DeliveryCounts",
    "DeliveryStats",
    "Feedback",
    "FeedbackKind",
    "FeedbackReport",
    "FeedbackStore",
    "OptOutReport",
    "OptedOutNumbers",
    "PushEndpoints",
    "SmsOptOuts",
    "StatsView",
    "Suppression",
    "SuppressionPage",
    "SuppressionPolicy",
    "SuppressionRequest",
    "SuppressionView",
    "Suppressions",
    "SyncClaims",
    "add_suppression",
    "delivery_stats",
    "lift_suppression",
    "normal_address",
    "page_suppressions",
    "parse_feedback",
    "sync_sms_opt_outs",
    "take_feedback",
]


__getattr__ = lazy_exports(__name__, _HOMES)
