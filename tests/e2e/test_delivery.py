"""POST /events through API Gateway → ingest → SQS → the sender functions → SES / SNS on LocalStack."""

from __future__ import annotations

import json

import pytest

from notify.channels import EVENT_CHANNELS, EventType
from notify_dev.api import as_sent
from notify_dev.benchmarks import zone_where_it_is
from notify_dev.endpoints import load_endpoints
from notify_dev.stores import emails_to, push_notification
from notify_dev.web import http
from tests.e2e.conftest import assert_delivered_once, event, wait_email, wait_push, wait_sms

pytestmark = pytest.mark.e2e


def test_an_event_ends_as_an_email_an_sms_and_a_push(api, make_users, movie):
    [user] = make_users()

    status, accepted = api.request("POST", "/events", event("new_episode", [user], movie, priority=8))

    assert status == 202, accepted
    assert (accepted["status"], accepted["recipients"], accepted["notifications"]) == ("queued", 1, 3)
    [mail] = wait_email(user)
    assert mail["Source"] == load_endpoints()["email_sender"]
    assert movie["title"] in mail["Subject"]
    assert "E2e" in mail["Body"]["text_part"]  # the greeting names the user
    [sms] = wait_sms(user)
    assert movie["title"] in sms["Message"]
    [push] = wait_push(user)
    assert movie["title"] in push_notification(push)["body"]

    api.wait_settled(accepted["event_id"])
    # LocalStack's SES publishes a Delivery event for the message (configuration set → SNS → the
    # feedback queue → the feedback function), which moves the e-mail on from sent.
    items = api.wait_channel_status(accepted["event_id"], "email", "delivered")
    assert sorted((i["channel"], i["status"], i["attempts"]) for i in items) == [
        ("email", "delivered", 1),
        ("push", "sent", 1),
        ("sms", "sent", 1),
    ]
    assert all(i["sent_at"] for i in items)
    assert_delivered_once(api, [user], ("email", "sms", "push"))
    status, view = api.request("GET", f"/events/{accepted['event_id']}")
    assert status == 200, view
    assert view["counts"] == {"delivered": 1, "sent": 2}


@pytest.mark.parametrize("event_type", [t.value for t in EventType])
def test_each_event_type_goes_out_on_its_channels(api, make_users, movie, event_type):
    # two users with every contact and one with only an e-mail address
    users = [*make_users(2), *make_users(1, phone=None, push_token=None)]
    channels = {str(c) for c in EVENT_CHANNELS[EventType(event_type)]}

    status, accepted = api.request("POST", "/events", event(event_type, users, movie, priority=2))

    assert status == 202, accepted
    items = api.wait_settled(accepted["event_id"])
    expected = sorted(
        (user["user_id"], channel)
        for user in users
        for channel in channels
        if user[{"email": "email", "sms": "phone", "push": "push_token"}[channel]]
    )
    assert sorted((i["user_id"], i["channel"]) for i in items) == expected
    if event_type == "comment_liked":
        # likes gather into a digest: held for its window (10 min), then the tick sends one message
        assert {(i["status"], i["reason"]) for i in items} == {("held", "digest")}
        assert all(emails_to(user["email"]) == [] for user in users)
        return
    assert {as_sent(i["status"]) for i in items} == {"sent"}
    for user in users:
        if "email" in channels:
            wait_email(user)
        if "sms" in channels and user["phone"]:
            wait_sms(user)
        if "push" in channels and user["push_token"]:
            [push] = wait_push(user)
            assert json.loads(push["Message"])  # the platform's JSON payload
    assert_delivered_once(api, users, sorted(channels))


def night_zone() -> str:
    """A time zone where it is 02:xx now: inside the default quiet hours (22:00-08:00)."""
    return zone_where_it_is(2)


def test_quiet_hours_defer_all_but_urgent_messages(api, make_users, movie):
    [user] = make_users(quiet_hours=True, timezone=night_zone(), phone=None, push_token=None)

    _, normal = api.request("POST", "/events", event("new_episode", [user], movie, priority=5))
    _, urgent = api.request("POST", "/events", event("new_episode", [user], movie, priority=9))

    [deferred] = api.wait_settled(normal["event_id"])
    assert (deferred["status"], deferred["reason"]) == ("deferred", "quiet_hours")
    [sent] = api.wait_settled(urgent["event_id"])
    assert as_sent(sent["status"]) == "sent"
    wait_email(user)
    assert_delivered_once(api, [user])


def test_an_opted_out_user_gets_no_email_while_the_others_in_the_event_do(api, make_users, movie):
    opted_out, other = make_users(2, phone=None, push_token=None)
    status, body = api.request(
        "PUT",
        f"/users/{opted_out['user_id']}/preferences",
        {"watch_later_reminder": {"email": False}, "quiet_hours": None},
    )
    assert status == 200, body

    _, accepted = api.request("POST", "/events", event("watch_later_reminder", [opted_out, other], movie))

    items = {item["user_id"]: item for item in api.wait_settled(accepted["event_id"])}
    assert (items[opted_out["user_id"]]["status"], items[opted_out["user_id"]]["reason"]) == (
        "skipped",
        "opted_out",
    )
    assert as_sent(items[other["user_id"]]["status"]) == "sent"
    wait_email(other)
    assert_delivered_once(api, [other])
    assert emails_to(opted_out["email"]) == []


def test_the_unsubscribe_link_of_an_email_works_through_api_gateway(api, endpoints, make_users, movie):
    [user] = make_users(phone=None, push_token=None)
    api.request("POST", "/events", event("new_releases_promo", [user], movie))
    [mail] = wait_email(user)
    link = mail["Headers"]["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{endpoints['api_url']}/unsubscribe?token=")
    assert mail["Headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = http("GET", link, headers={"Accept": "text/html"})
    one_click = http(
        "POST",
        link,
        b"List-Unsubscribe=One-Click",
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )

    assert page[0] == 200, page
    assert one_click[0] == 200, one_click
    status, preferences = api.request("GET", f"/users/{user['user_id']}/preferences")
    assert status == 200, preferences
    assert preferences["new_releases_promo"]["email"] is False
    _, again = api.request("POST", "/events", event("new_releases_promo", [user], movie))
    [item] = api.wait_settled(again["event_id"])
    assert (item["status"], item["reason"]) == ("skipped", "opted_out")
    assert_delivered_once(api, [user])


def test_the_same_idempotency_key_gives_the_first_answer_and_one_delivery(api, make_users, movie):
    [user] = make_users(phone=None, push_token=None)
    body = event("new_releases_promo", [user], movie)
    key = {"Idempotency-Key": f"e2e-{user['user_id']}"}

    first = api.request("POST", "/events", body, key)
    again = api.request("POST", "/events", body, key)
    other = api.request("POST", "/events", {**body, "priority": 9}, key)

    assert first[0] == again[0] == 202
    assert again[1]["event_id"] == first[1]["event_id"]
    assert other[0] == 409, other
    api.wait_settled(first[1]["event_id"])
    wait_email(user)
    assert_delivered_once(api, [user])
