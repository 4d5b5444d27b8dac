"""E-mail feedback on the deployed stack: SES-format events published onto the e-mail feedback topic
reach the feedback function through its queue (the real SNS → SQS → Lambda trigger); a bounce or a
complaint marks the e-mail and suppresses the address; the next e-mail to it is not sent; lifting the
suppression lets the following one through.

LocalStack invents no bounces or complaints: the tests publish them as SES documents them for event
publishing, naming the message id SES gave the e-mail.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from notify_dev.api import as_sent
from notify_dev.deploy import ensure_email_feedback
from notify_dev.polling import wait_for
from notify_dev.stores import emails_to, push_messages
from tests.e2e.conftest import GRACE_S, event, wait_email, wait_push

pytestmark = pytest.mark.e2e


def ses_event(kind: str, message_id: str, address: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    mail = {"timestamp": now, "messageId": message_id, "destination": [address], "source": "x@cinema.example"}
    if kind == "Bounce":
        detail = {
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {"emailAddress": address, "diagnosticCode": "smtp; 550 5.1.1 user unknown"}
                ],
                "timestamp": now,
            }
        }
    else:
        detail = {"complaint": {"complainedRecipients": [{"emailAddress": address}], "timestamp": now}}
    return {"eventType": kind, "mail": mail, **detail}


def suppressed(api: Any) -> dict[str, str]:
    """Every suppressed e-mail address (all pages) → its reason."""
    found: dict[str, str] = {}
    cursor = ""
    while True:
        _, page = api.request("GET", f"/suppressions?channel=email&limit=1000{cursor}")
        found |= {item["address"]: item["reason"] for item in page["items"]}
        if not page["next_cursor"]:
            return found
        cursor = f"&cursor={quote(page['next_cursor'])}"


def email_row(api: Any, event_id: str) -> dict[str, Any]:
    [row] = [i for i in api.notifications(event_id) if i["channel"] == "email"]
    return dict(row)


def email_with_feedback(
    api: Any, user: dict[str, Any], movie: dict[str, Any], endpoints: dict[str, Any], aws: Any, kind: str
) -> tuple[str, dict[str, Any]]:
    """An e-mail to `user` sent through the stack, then SES-format `kind` feedback for it published
    onto the feedback topic: (the event's id, the message in LocalStack's SES store)."""
    sent, first = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))
    assert sent == 202, first
    [mail] = wait_email(user)
    api.wait_settled(first["event_id"])
    aws("sns").publish(
        TopicArn=endpoints["email_feedback_topic_arn"],
        Message=json.dumps(ses_event(kind, mail["Id"], user["email"])),
    )
    return str(first["event_id"]), mail


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [("Bounce", "bounced", "hard_bounce"), ("Complaint", "complained", "complaint")],
)
def test_feedback_marks_the_email_suppresses_the_address_and_a_delete_lifts_it(
    api: Any,
    make_users: Any,
    movie: dict[str, Any],
    endpoints: dict[str, Any],
    aws: Any,
    kind: str,
    status: str,
    reason: str,
) -> None:
    [user] = make_users(phone=None, push_token=None)
    address = user["email"]
    first_id, _ = email_with_feedback(api, user, movie, endpoints, aws, kind)
    marked = wait_for(
        lambda: (row := email_row(api, first_id))["status"] == status and row,
        timeout=60,
        interval=0.5,
        what=f"the e-mail {status} after the {kind} feedback",
    )
    assert marked["reason"] == reason
    _, filtered = api.request("GET", f"/events/{first_id}/notifications?status={status}")
    assert [i["user_id"] for i in filtered["items"]] == [user["user_id"]]
    _, counted = api.request("GET", f"/events/{first_id}")
    assert counted["counts"] == {status: 1}
    assert suppressed(api).get(address) == reason

    try:
        _, second = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))
        skipped = api.wait_settled(second["event_id"])
        assert [(i["status"], i["reason"]) for i in skipped] == [("skipped", "suppressed")]
        time.sleep(GRACE_S)
        assert len(emails_to(address, endpoints["localstack_url"])) == 1  # nothing for the second event
    finally:
        lifted, _ = api.request("DELETE", f"/suppressions/email/{quote(address)}")
    assert lifted == 204

    _, third = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))
    wait_email(user, count=2)
    assert [as_sent(i["status"]) for i in api.wait_settled(third["event_id"])] == ["sent"]


def test_make_up_sets_the_email_feedback_path_up_once(endpoints: dict[str, Any], aws: Any) -> None:
    topic = endpoints["email_feedback_topic_arn"]
    configuration_set = f"{endpoints['queue_prefix']}-email"

    again = ensure_email_feedback(configuration_set, topic, endpoints["localstack_url"])

    found = aws("ses").describe_configuration_set(
        ConfigurationSetName=configuration_set, ConfigurationSetAttributeNames=["eventDestinations"]
    )["EventDestinations"]
    onto_topic = [d for d in found if d.get("SNSDestination", {}).get("TopicARN") == topic]
    assert [d["Name"] for d in onto_topic] == [again]
    # Only the events that move a notification or the suppression list on: Send (one per e-mail) and
    # DeliveryDelay would each cost an SNS message and a feedback invocation that changes nothing.
    assert set(onto_topic[0]["MatchingEventTypes"]) == {"delivery", "bounce", "complaint", "reject"}


def push_row(api: Any, event_id: str) -> tuple[str, str | None]:
    [row] = [i for i in api.wait_settled(event_id) if i["channel"] == "push"]
    return row["status"], row["reason"]


def test_a_disabled_push_endpoint_fails_once_then_its_token_is_suppressed(
    api: Any, make_users: Any, movie: dict[str, Any], endpoints: dict[str, Any], aws: Any
) -> None:
    [user] = make_users(phone=None)
    token = user["push_token"]
    _, first = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))
    [push] = wait_push(user)
    assert push_row(api, first["event_id"]) == ("sent", None)
    # the device is gone: the platform disables its endpoint (the one the first send made and kept)
    aws("sns").set_endpoint_attributes(EndpointArn=push["TargetArn"], Attributes={"Enabled": "false"})

    try:
        _, second = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))
        assert push_row(api, second["event_id"]) == ("failed", "endpoint_disabled")
        _, listed = api.request("GET", "/suppressions?channel=push&limit=1000")
        assert {i["address"]: i["reason"] for i in listed["items"]}.get(token) == "endpoint_disabled"

        _, third = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))
        assert push_row(api, third["event_id"]) == ("skipped", "suppressed")
        time.sleep(GRACE_S)
        assert len(push_messages(endpoints["localstack_url"]).get(token, [])) == 1
    finally:
        api.request("DELETE", f"/suppressions/push/{quote(token, safe='')}")
