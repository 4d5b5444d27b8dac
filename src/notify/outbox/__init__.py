"""The outbox: queue messages are stored with the rows they carry and published after commit;
the relay publishes what a crash left unpublished. Below every capability that queues.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from notify.outbox.ports import OutboundMessage, Outbox, Publisher, PublishOutcome, Refused
from notify.outbox.relay import Relayed, publish_after_commit, republish_unpublished

__all__ = [
    "OutboundMessage",
    "Outbox",
    "PublishOutcome",
    "Publisher",
    "Refused",
    "Relayed",
    "publish_after_commit",
    "republish_unpublished",
]
