"""Delivering one queue message: claim its recipients, render, send, record each outcome."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from notify.channels import CONTACT_FIELD, tier_for
from notify.controls import OVER_CAP, ControlRules, Verdict, decide, preferences_from_document
from notify.errors import PermanentError, RetryableError
from notify.logs import module_logger
from notify.models import NotificationMessage, Recipient
from notify.ports import DeliveryLedger, RecipientControls, Renderer, Sender

logger = module_logger()


@dataclass
class DeliveryReport:
    sent: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    already_handled: list[uuid.UUID] = field(default_factory=list)
    held_back: dict[uuid.UUID, Verdict] = field(default_factory=dict)


def deliver_message(
    message: NotificationMessage,
    *,
    ledger: DeliveryLedger,
    sender: Sender,
    renderer: Renderer,
    now: datetime,
    lease_s: int,
    final_attempt: bool,
    controls: RecipientControls | None = None,
    rules: ControlRules | None = None,
) -> DeliveryReport:
    """Send to every recipient of `message` not yet handled.

    A recipient is claimed before sending, so a redelivered or duplicated message never
    sends twice; a RetryableError releases the rest for the next attempt (or, on the final
    attempt, marks them failed) and propagates so the message goes back to its queue.
    With `controls`, the recipient rules are checked for the whole message at once before
    anything is sent; what they hold back is recorded with its status and reason.
    """
    channel = message.transport_type
    users = {user.user_id: user for user in message.payload.user}
    claimed = ledger.claim(message.event_id, channel, list(users), now, lease_s)
    report = DeliveryReport(already_handled=[user_id for user_id in users if user_id not in claimed])
    pending = [user for user_id, user in users.items() if user_id in claimed]
    if controls is not None and pending:
        pending = screen_recipients(message, pending, controls, rules or ControlRules(), now, report)

    for index, user in enumerate(pending):
        address = getattr(user, CONTACT_FIELD[channel])
        if not address:
            ledger.mark_failed(message.event_id, channel, [user.user_id], "no_contact", "no address")
            report.failed.append(user.user_id)
            continue
        try:
            rendered = renderer.render(message.event_type, channel, user, message.payload.content)
            provider_id = sender.send(address, rendered)
        except PermanentError as error:
            ledger.mark_failed(message.event_id, channel, [user.user_id], "rejected", str(error))
            report.failed.append(user.user_id)
            continue
        except RetryableError as error:
            unsent = [later.user_id for later in pending[index:]]
            if final_attempt:
                ledger.mark_failed(message.event_id, channel, unsent, "retries_exhausted", str(error))
            else:
                ledger.release_for_retry(message.event_id, channel, unsent, str(error))
            logger.warning(
                "transient provider error; message goes back to its queue",
                extra={"event_id": str(message.event_id), "channel": channel, "unsent": len(unsent)},
            )
            raise
        ledger.mark_sent(message.event_id, channel, user.user_id, now, provider_id)
        report.sent.append(user.user_id)
    return report


def screen_recipients(
    message: NotificationMessage,
    recipients: list[Recipient],
    controls: RecipientControls,
    rules: ControlRules,
    now: datetime,
    report: DeliveryReport,
) -> list[Recipient]:
    """Apply expiry, preferences, quiet hours, digests and frequency caps to a message's
    claimed recipients: one read of preferences, one cap reservation, one write of verdicts."""
    event_type, channel = message.event_type, message.transport_type
    tier = tier_for(message.priority)
    documents = controls.preferences_for([user.user_id for user in recipients])
    verdicts = {
        user.user_id: decide(
            event_type=event_type,
            channel=channel,
            tier=tier,
            due_at=message.created_dt,
            now=now,
            user_timezone=user.timezone,
            preferences=preferences_from_document(documents.get(user.user_id)),
            rules=rules,
            in_digest=user.digest_count is not None,
        )
        for user in recipients
    }
    cap = rules.cap_for(event_type, channel)
    candidates = [user.user_id for user in recipients if verdicts[user.user_id].status == "send"]
    if cap is not None and candidates:
        allowed = controls.reserve_sends(message.event_id, event_type, channel, candidates, cap, now)
        for user_id in candidates:
            if user_id not in allowed:
                verdicts[user_id] = OVER_CAP
    held_back = {user_id: verdict for user_id, verdict in verdicts.items() if verdict.status != "send"}
    controls.record_verdicts(message.event_id, channel, list(held_back.items()), now)
    report.held_back.update(held_back)
    return [user for user in recipients if user.user_id not in held_back]
