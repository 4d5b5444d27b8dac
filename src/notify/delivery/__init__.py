"""Delivery: taking one queue message to its recipients. Claims under a lease, recipient controls
(preferences, quiet hours, caps, digests), rendering, parallel provider calls within the time left,
and the outcome per recipient; preferences and signed unsubscribe links.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from notify.delivery.controls import SUPPRESSED, ControlRules, FrequencyCap, Verdict
from notify.delivery.deliver import DeliveryPolicy, DeliveryPorts, DeliveryReport, deliver_message
from notify.delivery.dispatch import DispatchPolicy, TimeLeft
from notify.delivery.models import Content, NotificationMessage, PreferencesDocument, Recipient
from notify.delivery.ports import (
    DeliveryLedger,
    Outcome,
    Pending,
    PreferenceStore,
    RecipientControls,
    RecipientFacts,
    ReleasedBatch,
    Rendered,
    Sender,
    WaitingNotifications,
)
from notify.delivery.preferences import read_preferences, replace_preferences, unsubscribe
from notify.delivery.rendering import TemplateRenderer
from notify.delivery.unsubscribe_links import InvalidToken, UnsubscribeLinks, verify_token

__all__ = [
    "SUPPRESSED",
    "Content",
    "ControlRules",
    "DeliveryLedger",
    "DeliveryPolicy",
    "DeliveryPorts",
    "DeliveryReport",
    "DispatchPolicy",
    "FrequencyCap",
    "InvalidToken",
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
    "Sender",
    "TemplateRenderer",
    "TimeLeft",
    "UnsubscribeLinks",
    "Verdict",
    "WaitingNotifications",
    "deliver_message",
    "read_preferences",
    "replace_preferences",
    "unsubscribe",
    "verify_token",
]
