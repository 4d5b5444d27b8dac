"""The outbox relay: messages are stored with their event and published after commit.

A broker outage or a crash between the two leaves them unpublished; the tick calls
`republish_unpublished` so they go out late rather than never. A message the broker refuses
for good (too large, unroutable) is parked with its error instead: it is never retried by
itself, and the messages behind it go on.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from notify.errors import BrokerUnavailable
from notify.logs import module_logger
from notify.outbox.ports import OutboundMessage, Outbox, Publisher

logger = module_logger()


@dataclass(frozen=True)
class Relayed:
    """What became of a set of outbox messages: published, parked, or left for a later relay."""

    published: int = 0
    parked: int = 0
    left: int = 0

    def __add__(self, other: "Relayed") -> "Relayed":
        return Relayed(self.published + other.published, self.parked + other.parked, self.left + other.left)


def publish_outbox(
    messages: Sequence[OutboundMessage], *, publisher: Publisher, outbox: Outbox, now: datetime
) -> Relayed:
    """Publish stored messages and record per message what the broker did with it; on a broker
    outage leave them for the tick. Storage errors propagate."""
    try:
        outcome = publisher.publish(messages)
    except BrokerUnavailable as error:
        logger.warning(
            "broker unavailable; messages stay in the outbox",
            extra={"messages": len(messages), "error": type(error).__name__},
        )
        return Relayed(left=len(messages))
    if outcome.refused:
        queues = {message.message_id: message.queue for message in messages}
        for refused in outcome.refused:
            logger.error(
                "broker refused a message; parked in the outbox",
                extra={
                    "message_id": str(refused.message_id),
                    "queue": queues.get(refused.message_id),
                    "error": refused.error,
                },
            )
        outbox.park(outcome.refused, now)
    if outcome.published:
        outbox.mark_published(outcome.published, now)
    relayed = Relayed(
        published=len(outcome.published),
        parked=len(outcome.refused),
        left=len(messages) - len(outcome.published) - len(outcome.refused),
    )
    if relayed.left:
        logger.warning(
            "broker took only part of a publish; the rest stays in the outbox",
            extra={"messages": relayed.left},
        )
    return relayed


def publish_after_commit(
    messages: Sequence[OutboundMessage], *, publisher: Publisher, outbox: Outbox, now: datetime
) -> Relayed:
    """Publish messages whose transaction has committed. They are safe in the outbox, so nothing
    that goes wrong here (broker, storage, anything) is the caller's failure: it is logged, by
    type only, and the relay delivers what is left."""
    try:
        return publish_outbox(messages, publisher=publisher, outbox=outbox, now=now)
    except Exception as error:  # noqa: BLE001 - committed already: whatever fails, the relay recovers it
        logger.warning(
            "publishing after commit failed; the outbox relay will deliver",
            extra={"messages": len(messages), "error": type(error).__name__},
        )
        return Relayed(left=len(messages))


def republish_unpublished(
    *,
    publisher: Publisher,
    outbox: Outbox,
    now: datetime,
    grace_s: int,
    batch_size: int = 500,
    max_batches: int = 100,
) -> Relayed:
    """Publish what was stored more than `grace_s` ago and never published (parked messages
    excepted). Stops at the first batch the broker did not take in full."""
    total = Relayed()
    for _ in range(max_batches):
        stranded = outbox.claim_unpublished(now, now - timedelta(seconds=grace_s), batch_size, lease_s=60)
        if not stranded:
            break
        relayed = publish_outbox(stranded, publisher=publisher, outbox=outbox, now=now)
        total += relayed
        if relayed.left:
            break
    if total.published or total.parked:
        logger.info(
            "re-published stranded outbox messages",
            extra={"messages": total.published, "parked": total.parked},
        )
    return total
