"""Workflows on the deployed stack: one saved through the API is posted and delivered with its own
texts, as its preview shows them; a template error is a 422 naming its line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import assert_delivered_once, event, wait_email, wait_sms

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
