"""Feedback: what providers say of sent messages. SES events move notifications on and feed the
suppression list, carriers' SMS opt-outs join it, and the delivery stats count the outcomes.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

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
