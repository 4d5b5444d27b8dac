"""The outbox relay: messages are stored with their event and published after commit.

A broker outage or a crash between the two leaves them unpublished; the tick calls
`republish_unpublished` so they go out late rather than never.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from notify.errors import BrokerUnavailable
from notify.logs import module_logger
from notify.ports import OutboundMessage, Outbox, Publisher

logger = module_logger()


def publish_outbox(
    messages: Sequence[OutboundMessage], *, publisher: Publisher, outbox: Outbox, now: datetime
) -> bool:
    """Publish stored messages and record that; on a broker outage leave them for the tick."""
    try:
        publisher.publish(messages)
    except BrokerUnavailable:
        logger.warning("broker unavailable; messages stay in the outbox", extra={"messages": len(messages)})
        return False
    outbox.mark_published([message.message_id for message in messages], now)
    return True


def republish_unpublished(
    *,
    publisher: Publisher,
    outbox: Outbox,
    now: datetime,
    grace_s: int,
    batch_size: int = 500,
    max_batches: int = 100,
) -> int:
    """Publish what was stored more than `grace_s` ago and never published. Returns how many."""
    published = 0
    for _ in range(max_batches):
        stranded = outbox.claim_unpublished(now, now - timedelta(seconds=grace_s), batch_size, lease_s=60)
        if not stranded or not publish_outbox(stranded, publisher=publisher, outbox=outbox, now=now):
            break
        published += len(stranded)
    if published:
        logger.info("re-published stranded outbox messages", extra={"messages": published})
    return published
