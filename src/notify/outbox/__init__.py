"""The outbox: queue messages are stored with the rows they carry and published after commit;
the relay publishes what a crash left unpublished. Below every capability that queues.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from typing import TYPE_CHECKING

from notify import lazy_exports

if TYPE_CHECKING:
    from notify.outbox.ports import OutboundMessage, Outbox, Publisher, PublishOutcome, Refused
    from notify.outbox.relay import Relayed, publish_after_commit, republish_unpublished

# Each public name's module, loaded on first use: a model or a port taken from this package (by an
# adapter, the Migrate function) does not load all of its logic and the libraries that logic needs.
_HOMES = {
    "OutboundMessage": "notify.outbox.ports",
    "Outbox": "notify.outbox.ports",
    "PublishOutcome": "notify.outbox.ports",
    "Publisher": "notify.outbox.ports",
    "Refused": "notify.outbox.ports",
    "Relayed": "notify.outbox.relay",
    "publish_after_commit": "notify.outbox.relay",
    "republish_unpublished": "notify.outbox.relay",
}

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


__getattr__ = lazy_exports(__name__, _HOMES)
