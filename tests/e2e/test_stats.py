"""GET /stats on the deployed stack: an e-mail sent, then bounced (SES-format feedback published onto the
e-mail feedback topic), and the next one to the address skipped as suppressed, show in the window's
figures for e-mail and new_episode; a future or missing `since` is a 422 naming it.

Other tests share the stack's database, so the figures are checked as lower bounds and for their
consistency (the rates), not as exact counts (tests/integration/test_stats.py counts exactly).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from notify_dev.polling import wait_for
from tests.e2e.conftest import event
from tests.e2e.test_feedback import email_row, email_with_feedback

pytestmark = pytest.mark.e2e


def stats(api: Any, since: datetime) -> dict[str, Any]:
    status, answer = api.request("GET", f"/stats?since={quote(since.isoformat())}")
    assert status == 200, answer
    return dict(answer)


def test_stats_show_a_bounce_and_a_suppressed_email_in_the_window(
    api: Any, make_users: Any, movie: dict[str, Any], endpoints: dict[str, Any], aws: Any
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    [user] = make_users(phone=None, push_token=None)
    address = user["email"]
    first_id, _ = email_with_feedback(api, user, movie, endpoints, aws, "Bounce")
    wait_for(
        lambda: email_row(api, first_id)["status"] == "bounced",
        timeout=60,
        interval=0.5,
        what="the e-mail bounced after the feedback",
    )
    try:
        _, second = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))
        skipped = api.wait_settled(second["event_id"])
        assert [(i["status"], i["reason"]) for i in skipped] == [("skipped", "suppressed")]

        answer = stats(api, since)
    finally:
        api.request("DELETE", f"/suppressions/email/{quote(address)}")

    assert datetime.fromisoformat(answer["since"]) == since
    assert datetime.fromisoformat(answer["until"]) >= since
    [item] = [i for i in answer["items"] if (i["channel"], i["event_type"]) == ("email", "new_episode")]
    assert item["bounced"] >= 1
    assert item["suppressed"] >= 1
    email = answer["totals"]["email"]
    assert set(answer["totals"]) == {"email", "sms", "push"}
    assert email["bounced"] >= item["bounced"]
    for figures in (item, email):
        handed = figures["sent"] + figures["delivered"] + figures["bounced"] + figures["complained"]
        assert figures["bounce_rate"] == pytest.approx(figures["bounced"] / handed)
        assert figures["complaint_rate"] == pytest.approx(figures["complained"] / handed)


@pytest.mark.parametrize("query", ["", "?since=not-a-time", f"?since={quote('2999-01-01T00:00:00+00:00')}"])
def test_stats_bad_since_is_422_naming_it(api: Any, query: str) -> None:
    status, answer = api.request("GET", f"/stats{query}")

    assert status == 422, answer
    assert answer["errors"][0]["loc"] == ["query", "since"]
