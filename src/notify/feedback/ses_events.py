"""SES event publishing notifications, as they reach the feedback queue through SNS.

SES publishes an event per message to the configuration set's SNS topic; the topic hands it to the
feedback queue wrapped in an SNS envelope (`{"Type": "Notification", "Message": "<the event>"}`), or as
it is with raw message delivery. Only the fields the service relies on are read; any other field may
be missing or extra. The first message on a new topic is SES's plain-text check ("Successfully
validated SNS topic for Amazon SES event publishing."), which is dropped.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from notify.errors import PermanentError


class FeedbackKind(StrEnum):
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    REJECTED = "rejected"


HARD_BOUNCE = "hard_bounce"
SOFT_BOUNCE = "soft_bounce"
COMPLAINT = "complaint"


@dataclass(frozen=True)
class Feedback:
    """What a provider said of one message to one address."""

    provider_message_id: str
    kind: FeedbackKind
    address: str
    occurred_at: datetime | None = None
    reason: str | None = None  # hard_bounce, soft_bounce, complaint
    diagnostic: str | None = None


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Mail(_Lenient):
    message_id: str = Field(alias="messageId", min_length=1)
    destination: list[str] = Field(default_factory=list)
    timestamp: datetime | None = None


class _BouncedRecipient(_Lenient):
    email_address: str = Field(alias="emailAddress")
    diagnostic_code: str | None = Field(default=None, alias="diagnosticCode")


class _Bounce(_Lenient):
    bounce_type: str = Field(default="Undetermined", alias="bounceType")
    bounced_recipients: list[_BouncedRecipient] = Field(default_factory=list, alias="bouncedRecipients")
    timestamp: datetime | None = None


class _ComplainedRecipient(_Lenient):
    email_address: str = Field(alias="emailAddress")


class _Complaint(_Lenient):
    complained_recipients: list[_ComplainedRecipient] = Field(
        default_factory=list, alias="complainedRecipients"
    )
    timestamp: datetime | None = None


class _Delivery(_Lenient):
    recipients: list[str] = Field(default_factory=list)
    timestamp: datetime | None = None


class SesEvent(_Lenient):
    # Event publishing says "eventType"; the older identity notifications say "notificationType".
    event_type: str = Field(alias="eventType")
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None
    delivery: _Delivery | None = None


def unwrap(body: str) -> dict[str, Any] | None:
    """The SES event inside an SQS body (SNS envelope or raw), or None for SES's plain-text check."""
    try:
        document = json.loads(body)
    except ValueError:
        return None  # raw delivery of the plain-text topic check
    if isinstance(document, dict) and document.get("Type") in {"Notification", "SubscriptionConfirmation"}:
        if document.get("Type") != "Notification":
            return None
        try:
            document = json.loads(str(document.get("Message", "")))
        except ValueError:
            return None  # the plain-text topic check, in its envelope
    if not isinstance(document, dict):
        raise PermanentError("feedback: not a JSON object")
    if "notificationType" in document and "eventType" not in document:
        document = {**document, "eventType": document["notificationType"]}
    return document


def parse_feedback(body: str) -> list[Feedback]:
    """The feedback an SQS body carries: one per address; none for events that change nothing
    (Send, DeliveryDelay, Open, Click, the topic check). A body that is no SES event → PermanentError."""
    document = unwrap(body)
    if document is None:
        return []
    try:
        event = SesEvent.model_validate(document)
    except ValidationError as error:
        fields = ", ".join(".".join(str(part) for part in item["loc"]) for item in error.errors())
        raise PermanentError(f"feedback: not an SES event ({fields})") from error
    message_id = event.mail.message_id
    kind = event.event_type.lower()
    if kind == "delivery":
        delivery = event.delivery or _Delivery()
        addresses = delivery.recipients or event.mail.destination
        return [
            Feedback(message_id, FeedbackKind.DELIVERED, address, delivery.timestamp) for address in addresses
        ]
    if kind == "bounce" and event.bounce is not None:
        bounce = event.bounce
        reason = HARD_BOUNCE if bounce.bounce_type == "Permanent" else SOFT_BOUNCE
        recipients = bounce.bounced_recipients or [
            _BouncedRecipient(email_address=address) for address in event.mail.destination
        ]
        return [
            Feedback(
                message_id, FeedbackKind.BOUNCED, r.email_address, bounce.timestamp, reason, r.diagnostic_code
            )
            for r in recipients
        ]
    if kind == "complaint" and event.complaint is not None:
        complaint = event.complaint
        addresses = [r.email_address for r in complaint.complained_recipients] or event.mail.destination
        return [
            Feedback(message_id, FeedbackKind.COMPLAINED, address, complaint.timestamp, COMPLAINT)
            for address in addresses
        ]
    if kind == "reject":
        return [
            Feedback(message_id, FeedbackKind.REJECTED, a, event.mail.timestamp)
            for a in event.mail.destination
        ]
    return []
