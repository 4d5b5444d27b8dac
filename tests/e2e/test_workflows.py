"""Workflows on the deployed stack: one saved through the API is posted and delivered with its own
texts, as its preview shows them; a template error is a 422 naming its line."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notify_dev.polling import wait_for
from notify_dev.stores import emails_to, push_data, sms_messages
from tests.e2e.conftest import GRACE_S, assert_delivered_once, event, wait_email, wait_push, wait_sms
from tests.e2e.test_feedback import ses_event

pytestmark = pytest.mark.e2e

FOOTER = "\n\n--\n"  # where the service's unsubscribe footer begins in an e-mail's text


def expiring(sms: str) -> dict[str, Any]:
    return {
        "description": "the subscription ends in 3 days",
        "priority": 8,
        "steps": [{"type": "send", "channel": "email"}, {"type": "send", "channel": "sms"}],
        "templates": {
            "email": {
                "en": {
                    "subject": "{{ user.first_name }}, your subscription ends in 3 days",
                    "text": "Renew to keep watching {{ content | movies(locale) }}.",
                    "html": "<p>Renew to keep watching <b>{{ content | movies(locale) }}</b>.</p>",
                }
            },
            "sms": {"en": {"text": sms}},
        },
        "controls": {"max_age_seconds": 3600, "quiet_hours": False},
    }


@pytest.fixture
def workflow_key(api: Any) -> Iterator[str]:
    key = f"e2e_expiring_{uuid.uuid4().hex[:8]}"
    yield key
    api.request("DELETE", f"/workflows/{key}")  # archived: the stack keeps no live test workflow


def test_a_workflow_saved_through_the_api_is_delivered_with_its_own_texts_as_previewed(
    api: Any, make_users: Any, movie: dict[str, Any], workflow_key: str
) -> None:
    [user] = make_users(push_token=None)
    status, first = api.request("PUT", f"/workflows/{workflow_key}", expiring("first version"))
    assert (status, first["version"]) == (201, 1), first
    status, saved = api.request(
        "PUT", f"/workflows/{workflow_key}", expiring("{{ user.first_name }}: 3 days left on your plan")
    )
    assert (status, saved["version"]) == (200, 2), saved

    status, preview = api.request(
        "POST",
        f"/workflows/{workflow_key}/preview",
        {"user_id": user["user_id"], "content": [movie["movie_id"]]},
    )
    assert status == 200, preview
    status, accepted = api.request("POST", "/events", event(workflow_key, [user], movie))
    assert status == 202, accepted
    assert accepted["notifications"] == 2

    [mail] = wait_email(user)
    [sms] = wait_sms(user)
    assert sms["Message"] == preview["sms"]["text"] == f"{user['first_name']}: 3 days left on your plan"
    assert mail["Subject"] == preview["email"]["subject"]
    assert mail["Body"]["text_part"].startswith(preview["email"]["text"].split(FOOTER)[0])
    assert movie["title"] in mail["Body"]["text_part"]
    api.wait_settled(accepted["event_id"])
    assert_delivered_once(api, [user], ("email", "sms"))


def test_a_template_error_is_a_422_naming_its_line(api: Any, workflow_key: str) -> None:
    status, answer = api.request(
        "PUT", f"/workflows/{workflow_key}", expiring("line one\nline two\n{{ user.first_name | shout }}")
    )

    assert status == 422, answer
    assert answer["errors"][0]["loc"] == ["body", "templates", "sms", "en", "text"]
    assert answer["errors"][0]["msg"].startswith("line 3: ")
    assert api.request("GET", f"/workflows/{workflow_key}")[0] == 404


def test_an_archived_workflow_takes_no_event_and_a_built_in_is_never_archived(
    api: Any, make_users: Any, movie: dict[str, Any], workflow_key: str
) -> None:
    [user] = make_users()
    api.request("PUT", f"/workflows/{workflow_key}", expiring("x"))

    assert api.request("DELETE", f"/workflows/{workflow_key}")[0] == 204
    status, refused = api.request("POST", "/events", event(workflow_key, [user], movie))
    assert status == 422, refused
    assert refused["errors"][0]["loc"] == ["body", "event_type"]
    assert api.request("DELETE", "/workflows/new_episode")[0] == 409


def _tick(aws: Any, endpoints: dict[str, Any]) -> None:
    """The tick function invoked as its rule invokes it (the rule runs too, every minute)."""
    answer = aws("lambda").invoke(FunctionName=endpoints["tick_function"], Payload=b"{}")
    assert "FunctionError" not in answer, answer["Payload"].read()


def _row(api: Any, event_id: str, user: dict[str, Any], channel: str) -> dict[str, Any] | None:
    rows = [
        i for i in api.notifications(event_id) if i["user_id"] == user["user_id"] and i["channel"] == channel
    ]
    return rows[0] if rows else None


def test_a_bounced_email_is_followed_by_an_sms_and_only_for_the_bounced(
    api: Any, aws: Any, endpoints: dict[str, Any], make_users: Any, movie: dict[str, Any], workflow_key: str
) -> None:
    bounced, kept = make_users(2, push_token=None)
    fallback = {
        "steps": [
            {"ref": "mail1", "type": "send", "channel": "email"},
            {"type": "wait", "until": {"ref": "mail1", "any": ["bounced"]}, "timeout_seconds": 120},
            {"type": "send", "channel": "sms", "if": {"ref": "mail1", "any": ["bounced"]}},
        ],
        "templates": expiring("unused")["templates"]
        | {"sms": {"en": {"text": "Your e-mail bounced: {{ user.first_name }}"}}},
        "controls": {"quiet_hours": False},
    }
    assert api.request("PUT", f"/workflows/{workflow_key}", fallback)[0] == 201
    status, accepted = api.request("POST", "/events", event(workflow_key, [bounced, kept], movie))
    assert status == 202, accepted
    event_id = accepted["event_id"]
    assert (accepted["recipients"], accepted["notifications"]) == (2, 0)  # their runs make the sends

    _tick(aws, endpoints)
    [mail] = wait_email(bounced)
    wait_email(kept)
    wait_for(
        lambda: (_row(api, event_id, bounced, "email") or {}).get("status") in ("sent", "delivered"),
        timeout=30,
    )
    aws("sns").publish(
        TopicArn=endpoints["email_feedback_topic_arn"],
        Message=json.dumps(ses_event("Bounce", mail["Id"], bounced["email"])),
    )
    wait_for(lambda: (_row(api, event_id, bounced, "email") or {}).get("status") == "bounced", timeout=60)
    _tick(aws, endpoints)  # the bounce woke the run: it goes on now, not when its wait times out
    [sms] = wait_sms(bounced)

    assert sms["Message"] == f"Your e-mail bounced: {bounced['first_name']}"
    status, waiting = api.request("GET", f"/events/{event_id}/runs?user_id={kept['user_id']}")
    assert status == 200, waiting
    assert (waiting["state"], waiting["position"]) == ("waiting", 1)
    wait_for(
        lambda: datetime.now(UTC) > datetime.fromisoformat(waiting["waiting_until"]), timeout=150, interval=2
    )
    _tick(aws, endpoints)
    status, over = api.request("GET", f"/events/{event_id}/runs?user_id={kept['user_id']}")
    assert status == 200, over
    assert [(s["step"], s["result"], s["reason"]) for s in over["steps"]] == [
        (0, "sent", None),
        (1, "timed_out", None),
        (2, "skipped", "condition"),
    ]
    status, done = api.request("GET", f"/events/{event_id}/runs?user_id={bounced['user_id']}")
    assert [(s["step"], s["result"]) for s in done["steps"]] == [(0, "sent"), (1, "satisfied"), (2, "sent")]
    time.sleep(GRACE_S)
    assert sms_messages().get(kept["phone"], []) == []
    assert [i["step_ref"] for i in api.notifications(event_id) if i["channel"] == "email"] == [
        "mail1",
        "mail1",
    ]


def _notification(api: Any, event_id: str, user: dict[str, Any], channel: str) -> dict[str, Any]:
    row = _row(api, event_id, user, channel)
    assert row is not None, (user["user_id"], channel)
    return row


def test_an_opened_push_skips_the_email_the_delay_would_send(
    api: Any, aws: Any, endpoints: dict[str, Any], make_users: Any, movie: dict[str, Any], workflow_key: str
) -> None:
    opener, ignorer = make_users(2, phone=None)
    escalation = {
        "steps": [
            {"ref": "push1", "type": "send", "channel": "push"},
            {"type": "delay", "seconds": 60},
            {"type": "send", "channel": "email", "if": {"ref": "push1", "not": ["opened", "read"]}},
        ],
        "templates": expiring("unused")["templates"]
        | {"push": {"en": {"title": "Kick-off", "body": "In 10 minutes"}}},
        "controls": {"quiet_hours": False},
    }
    assert api.request("PUT", f"/workflows/{workflow_key}", escalation)[0] == 201
    status, accepted = api.request("POST", "/events", event(workflow_key, [opener, ignorer], movie))
    assert status == 202, accepted
    event_id = accepted["event_id"]

    _tick(aws, endpoints)
    [push] = wait_push(opener)
    wait_push(ignorer)
    wait_for(lambda: _notification(api, event_id, opener, "push")["status"] == "sent", timeout=30)
    push_id = _notification(api, event_id, opener, "push")["id"]
    assert push_data(push) == {"notification_id": push_id}  # the app learns the notification's id
    status, seen = api.request("POST", f"/notifications/{push_id}/engagement", {"action": "opened"})
    assert (status, seen["recorded"]) == (200, True), seen
    wait_for(
        lambda: (
            datetime.now(UTC)
            > datetime.fromisoformat(seen["engagement"]["opened_at"]) + timedelta(seconds=61)
        ),
        timeout=90,
        interval=2,
    )
    _tick(aws, endpoints)

    [mail] = wait_email(ignorer)
    time.sleep(GRACE_S)
    assert emails_to(opener["email"]) == []
    assert "10 minutes" not in mail["Body"]["text_part"]  # the e-mail's own texts
    assert (
        _notification(api, event_id, opener, "push")["engagement"]["opened_at"]
        == seen["engagement"]["opened_at"]
    )
    status, run = api.request("GET", f"/events/{event_id}/runs?user_id={opener['user_id']}")
    assert [(s["step"], s["result"], s["reason"]) for s in run["steps"]] == [
        (0, "sent", None),
        (1, "delayed", None),
        (2, "skipped", "condition"),
    ]


def test_a_click_on_a_tracked_link_redirects_and_shows_clicked_at(
    api: Any, make_users: Any, movie: dict[str, Any], workflow_key: str
) -> None:
    [user] = make_users(phone=None, push_token=None)
    tracked = {
        "steps": [{"type": "send", "channel": "email"}],
        "templates": {
            "email": {
                "en": {
                    "subject": "Watch {{ content | movies(locale) }}",
                    "text": "Start here: https://cinema.example/watch?id=42",
                    "html": '<p><a href="https://cinema.example/watch?id=42">Start</a></p>',
                }
            }
        },
        "tracking": {"opens": True, "clicks": True},
    }
    assert api.request("PUT", f"/workflows/{workflow_key}", tracked)[0] == 201
    status, accepted = api.request("POST", "/events", event(workflow_key, [user], movie))
    assert status == 202, accepted

    [mail] = wait_email(user)
    text = mail["Body"]["text_part"]
    link = text.split("Start here: ")[1].split()[0]
    assert link.startswith(api.base_url + "/t/")
    assert "cinema.example" not in text.split("--")[0]
    followed = http_no_redirect(link)
    api.wait_settled(accepted["event_id"])

    assert followed == (302, "https://cinema.example/watch?id=42")
    seen = _notification(api, accepted["event_id"], user, "email")["engagement"]
    assert seen["clicked_at"] is not None
    assert seen["opened_at"] is None  # nobody loaded the pixel
    assert http_no_redirect(link[:-4] + "AAAA")[0] == 400  # an altered token redirects nowhere


def http_no_redirect(url: str) -> tuple[int, str | None]:
    """GET `url` without following a redirect: (status, Location)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=30)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        answer = connection.getresponse()
        answer.read()
        return answer.status, answer.getheader("Location")
    finally:
        connection.close()
