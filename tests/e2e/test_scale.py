"""One event to 10,000 e-mail recipients through API Gateway: every row `sent`, exactly one e-mail per
address in LocalStack's SES store, counted a grace period after the event settled.

The directory gets the users in ten PUTs of 1,000 (in a time zone where it is daytime, so no
preference call per user is needed); the test reports how long POST → every row final took."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from notify_dev.api import ACCEPTED_STATUSES, PENDING_STATUSES
from tests.e2e.conftest import (
    Api,
    counts_after_grace,
    event,
    forget_deliveries,
    put_users,
    report_line,
    settle_rows,
)

pytestmark = pytest.mark.e2e

RECIPIENTS = 10_000
# Not a speed target: a net for a stack that stopped delivering. Each e-mail names the configuration
# set, so LocalStack's SendRawEmail publishes its Send and Delivery events to SNS before it answers
# (measured here: 33 ms a send without the set, 129 ms with it), and the feedback function records
# 20,000 events alongside: 10,000 took 117 s before the set and 459 s with it, on 2 shared cores.
DEADLINE_S = 900
STALL_S = 180  # no row became final for this long: stop waiting (stranded rows stay stranded)


@pytest.mark.timeout(DEADLINE_S + 300)
def test_one_event_to_ten_thousand_email_recipients(api, endpoints, movie, request):
    users = put_users(api, RECIPIENTS)

    try:
        _deliver_to_all(api, endpoints, movie, request, users)
    finally:
        # ten thousand e-mails left in the store would slow every later test's reading of it
        forget_deliveries(users, endpoints["localstack_url"])


def _deliver_to_all(
    api: Api,
    endpoints: dict[str, Any],
    movie: dict[str, Any],
    request: pytest.FixtureRequest,
    users: list[dict[str, Any]],
) -> None:
    started = time.monotonic()
    status, accepted = api.request("POST", "/events", event("new_episode", users, movie, priority=8))
    assert status == 202, accepted
    assert (accepted["recipients"], accepted["notifications"]) == (RECIPIENTS, RECIPIENTS)
    settled_at, statuses = settle_rows(
        endpoints["database_url"], [accepted["event_id"]], DEADLINE_S, stall_s=STALL_S, interval=2
    )
    took = settled_at - started
    counts = counts_after_grace(users, ["email"], settled_at)["email"]
    missing = sum(1 for u in users if counts[u["email"]] == 0)
    duplicates = sum(max(0, counts[u["email"]] - 1) for u in users)
    with psycopg.connect(endpoints["database_url"]) as conn:
        first, last = conn.execute(
            "SELECT min(sent_at), max(sent_at) FROM notifications WHERE event_id = %s",
            (accepted["event_id"],),
        ).fetchone() or (None, None)
    span = (last - first).total_seconds() if first and last else 0.0
    sent = sum(statuses.get(s, 0) for s in ACCEPTED_STATUSES)
    ended = "rows final" if not set(statuses) & PENDING_STATUSES else "gave up waiting"
    line = (
        f"scale: {RECIPIENTS} e-mail recipients, POST → {ended} {took:.0f} s;"
        f" sent_at span {span:.0f} s ({sent / max(span, 1):.0f} e-mails/s);"
        f" rows {dict(sorted(statuses.items()))}; store: {missing} without an e-mail, {duplicates} duplicates"
    )
    report_line(request.config, "scale", line)

    assert (sent, set(statuses) <= ACCEPTED_STATUSES) == (RECIPIENTS, True), line
    assert (missing, duplicates) == (0, 0), line
