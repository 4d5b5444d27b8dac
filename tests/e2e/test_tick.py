"""Delayed sends: the tick function (EventBridge, every minute) fires what schedules say is due.

One test invokes tick through the Lambda API, as the rule would; one waits for the rule itself (at most
a minute and a half: the rule's period plus delivery)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from notify_dev.api import as_sent
from notify_dev.polling import wait_for
from notify_dev.stores import emails_to
from tests.e2e.conftest import assert_delivered_once, event, wait_email

pytestmark = pytest.mark.e2e


def post_delayed(api, users, movie, delay_s: float) -> tuple[str, datetime]:
    start = datetime.now(UTC) + timedelta(seconds=delay_s)
    status, accepted = api.request(
        "POST", "/events", event("new_releases_promo", users, movie, start_dt=start.isoformat())
    )
    assert status == 202, accepted
    assert accepted["status"] == "scheduled"
    assert accepted["schedule_id"]
    return accepted["schedule_id"], start


def fired_event(api, schedule_id: str) -> str | None:
    status, view = api.request("GET", f"/schedules/{schedule_id}")
    assert status == 200, view
    return view["last_run"]["event_id"] if view.get("last_run") else None


def test_the_tick_function_sends_a_delayed_event_when_it_is_due(api, aws, endpoints, make_users, movie):
    [user] = make_users(phone=None, push_token=None)
    schedule_id, start = post_delayed(api, [user], movie, delay_s=1)
    wait_for(lambda: datetime.now(UTC) >= start, timeout=5, what="start_dt reached")
    assert emails_to(user["email"]) == []  # nothing before the tick

    answer = aws("lambda").invoke(FunctionName=endpoints["tick_function"], Payload=b"{}")

    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer, answer["Payload"].read()
    report = json.loads(answer["Payload"].read())
    assert isinstance(report, dict)
    event_id = wait_for(lambda: fired_event(api, schedule_id), timeout=30, what="schedule fired")
    [mail] = wait_email(user)
    assert movie["title"] in mail["Subject"]
    assert [as_sent(i["status"]) for i in api.wait_settled(event_id)] == ["sent"]
    assert_delivered_once(api, [user])
    status, view = api.request("GET", f"/schedules/{schedule_id}")
    assert status == 200, view
    assert (view["state"], view["runs"]) == ("done", 1)


def test_the_eventbridge_rule_runs_the_tick_every_minute(api, aws, endpoints, make_users, movie):
    rules = aws("events").list_rule_names_by_target(
        TargetArn=aws("lambda").get_function(FunctionName=endpoints["tick_function"])["Configuration"][
            "FunctionArn"
        ]
    )["RuleNames"]
    assert len(rules) == 1
    rule = aws("events").describe_rule(Name=rules[0])
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(1 minute)", "ENABLED")
    [user] = make_users(phone=None, push_token=None)

    schedule_id, _ = post_delayed(api, [user], movie, delay_s=1)

    # nobody invokes the tick here: the rule must
    event_id = wait_for(
        lambda: fired_event(api, schedule_id),
        timeout=90,
        interval=1,
        what="the rule's tick fired the schedule",
    )
    wait_email(user, timeout=30)
    assert [as_sent(i["status"]) for i in api.wait_settled(event_id)] == ["sent"]
    assert_delivered_once(api, [user])
