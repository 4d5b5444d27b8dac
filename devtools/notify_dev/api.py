"""Reading an event's notifications back through the HTTP API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from notify_dev.endpoints import api_headers
from notify_dev.web import http

# A notification in one of these is still on its way; any other status is an outcome for now (sent,
# failed, skipped, expired, or held for a digest / deferred past quiet hours until the tick sends it).
PENDING_STATUSES = frozenset({"queued", "sending", "retrying"})
# The provider took it: `sent`, then `delivered` once its delivery report is back (e-mail, through SES's
# events, which may come before or after the sender recorded the send). Count them together.
ACCEPTED_STATUSES = frozenset({"sent", "delivered"})


def as_sent(status: str) -> str:
    """ "sent" for a status of ACCEPTED_STATUSES, else the status itself."""
    return "sent" if status in ACCEPTED_STATUSES else status


def list_notifications(api: str, event_id: str) -> list[dict[str, Any]]:
    """Every notification row of an event (all pages)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = f"?limit=1000&cursor={cursor}" if cursor else "?limit=1000"
        status, body = http("GET", f"{api}/events/{event_id}/notifications{query}", headers=api_headers())
        if status != 200:
            raise RuntimeError(f"GET /events/{event_id}/notifications answered {status}: {body}")
        items.extend(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return items


def settled_notifications(api: str, event_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]] | None:
    """The events' notifications once none is still on its way (see PENDING_STATUSES), else None."""
    found = {event_id: list_notifications(api, event_id) for event_id in event_ids}
    if all(item["status"] not in PENDING_STATUSES for items in found.values() for item in items):
        return found
    return None
