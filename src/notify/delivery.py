"""Delivering one queue message: claim its recipients, render, send, record each outcome."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from notify.channels import CONTACT_FIELD
from notify.errors import PermanentError, RetryableError
from notify.logs import module_logger
from notify.models import NotificationMessage
from notify.ports import DeliveryLedger, Renderer, Sender

logger = module_logger()


@dataclass
class DeliveryReport:
    sent: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    already_handled: list[uuid.UUID] = field(default_factory=list)


def deliver_message(
    message: NotificationMessage,
    *,
    ledger: DeliveryLedger,
    sender: Sender,
    renderer: Renderer,
    now: datetime,
    lease_s: int,
    final_attempt: bool,
) -> DeliveryReport:
    """Send to every recipient of `message` not yet handled.

    A recipient is claimed before sending, so a redelivered or duplicated message never
    sends twice; a RetryableError releases the rest for the next attempt (or, on the final
    attempt, marks them failed) and propagates so the message goes back to its queue.
    """
    channel = message.transport_type
    users = {user.user_id: user for user in message.payload.user}
    claimed = ledger.claim(message.event_id, channel, list(users), now, lease_s)
    report = DeliveryReport(already_handled=[user_id for user_id in users if user_id not in claimed])
    pending = [user for user_id, user in users.items() if user_id in claimed]

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
