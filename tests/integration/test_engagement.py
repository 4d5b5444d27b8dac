"""Engagement through the HTTP API on the real PostgreSQL: the app's reports, tracked links and the open
pixel, first-seen times, what is never counted, the stats' rates, and a run woken by an open."""

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from notify.access import issue_key
from notify.adapters.postgres import PostgresStore
from notify.channels import Channel
from notify.delivery import FixedKey, NotificationMessage, TemplateRenderer, TrackingLinks, UnsubscribeLinks
from notify.feedback import Suppression
from notify.workflows import KeptVersions
from tests.integration.conftest import Api
from tests.integration.support import event_body, make_user, parse

pytestmark = pytest.mark.integration
SECRET = "engagement-tests-secret-0123456789"
BASE = "https://api.example/v1"

TRACKED = {
    "steps": [{"ref": "mail", "type": "send", "channel": "email"}, {"type": "send", "channel": "push"}],
    "templates": {
        "email": {
            "en": {
                "subject": "New on the cinema",
                "text": "Watch it: https://cinema.example/watch?id=7",
                "html": '<p><a href="https://cinema.example/watch?id=7">Watch</a></p>',
            }
        },
        "push": {"en": {"title": "New", "body": "Watch it"}},
    },
    "tracking": {"opens": True, "clicks": True},
}


def sent(api: Api, store: PostgresStore, user: Any) -> tuple[str, dict[Channel, NotificationMessage]]:
    """An event of the tracked workflow to `user`, its rows marked sent as a sender would leave them."""
    assert api.put("/workflows/tracked", TRACKED).status in (200, 201)
    accepted = api.post("/events", event_body([user.user_id], "tracked"))
    assert accepted.status == 202, accepted.text
    with psycopg.connect(api.dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE notifications SET status = 'sent', sent_at = now() WHERE event_id = %s",
            (accepted.json["event_id"],),
        )
    messages = {m.transport_type: m for m in parse(api.publisher.published)}
    return str(accepted.json["event_id"]), messages


def notification(api: Api, event_id: str, channel: str) -> dict[str, Any]:
    [item] = [
        i for i in api.get(f"/events/{event_id}/notifications").json["items"] if i["channel"] == channel
    ]
    return dict(item)


def test_the_app_reports_an_open_once_and_its_first_time_is_kept(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    event_id, messages = sent(api, store, user)
    push_id = messages[Channel.PUSH].payload.user[0].notification_id

    first = api.post(f"/notifications/{push_id}/engagement", {"action": "opened"})
    again = api.post(f"/notifications/{push_id}/engagement", {"action": "opened"})
    read = api.post(f"/notifications/{push_id}/engagement", {"action": "read"})

    assert first.status == 200, first.text
    assert first.json["recorded"] is True
    assert again.json["engagement"]["opened_at"] == first.json["engagement"]["opened_at"]
    assert read.json["engagement"]["read_at"] is not None
    view = notification(api, event_id, "push")
    assert view["id"] == str(push_id)
    assert view["engagement"]["opened_at"] is not None
    assert view["engagement"]["read_at"] is not None
    assert view["engagement"]["clicked_at"] is None


def test_engagement_is_not_counted_unsent_suppressed_or_opted_out(api: Api, store: PostgresStore) -> None:
    user = make_user()
    store.upsert_users([user])
    event_id, messages = sent(api, store, user)
    email_id = messages[Channel.EMAIL].payload.user[0].notification_id
    push_id = messages[Channel.PUSH].payload.user[0].notification_id
    with psycopg.connect(api.dsn, autocommit=True) as conn:
        conn.execute("UPDATE notifications SET status = 'queued' WHERE notification_id = %s", (push_id,))
    store.suppress([Suppression("email", str(user.email), "complaint", datetime.now(UTC))])

    unsent = api.post(f"/notifications/{push_id}/engagement", {"action": "opened"})
    suppressed = api.post(f"/notifications/{email_id}/engagement", {"action": "clicked"})

    assert (unsent.status, unsent.json["recorded"]) == (200, False)
    assert (suppressed.status, suppressed.json["recorded"]) == (200, False)
    assert notification(api, event_id, "email")["engagement"] == {
        "opened_at": None,
        "clicked_at": None,
        "read_at": None,
    }


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (f"/notifications/{uuid.uuid4()}/engagement", {"action": "opened"}, 404),
        (f"/notifications/{uuid.uuid4()}/engagement", {"action": "liked"}, 422),
        (f"/notifications/{uuid.uuid4()}/engagement", {"action": "opened", "extra": 1}, 422),
        ("/notifications/not-a-uuid/engagement", {"action": "opened"}, 422),
    ],
)
def test_a_report_naming_nothing_known_is_a_4xx(api: Api, path: str, body: Any, status: int) -> None:
    answer = api.post(path, body)

    assert answer.status == status, answer.text


def test_reporting_engagement_needs_its_scope(api: Api, store: PostgresStore) -> None:
    reader = issue_key("reader", ["events:read"], None, now=datetime.now(UTC), keys=store).key
    api.api_key = reader

    assert api.post(f"/notifications/{uuid.uuid4()}/engagement", {"action": "opened"}).status == 403


def test_a_tracked_link_redirects_and_shows_clicked_and_the_pixel_shows_opened(
    api: Api, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    event_id, messages = sent(api, store, user)
    keys = FixedKey(SECRET)
    renderer = TemplateRenderer(
        KeptVersions(store),
        links=UnsubscribeLinks(BASE, keys, timedelta(days=1)),
        tracking=TrackingLinks(BASE, keys),
    )
    api.services.unsubscribe_keys = keys
    mail = messages[Channel.EMAIL]
    rendered = renderer.render(
        mail.event_type, Channel.EMAIL, mail.payload.user[0], [], mail.workflow_version
    )
    assert rendered.html is not None
    assert "https://cinema.example" not in rendered.text + rendered.html
    assert rendered.unsubscribe_url is not None
    assert rendered.unsubscribe_url in rendered.text  # never tracked
    click = rendered.text.split("Watch it: ")[1].split()[0].removeprefix(BASE)
    pixel = rendered.html.split('<img src="')[1].split('"')[0].removeprefix(BASE)

    followed = api.get(click)
    opened = api.get(pixel)
    forged = api.get(click[:-3] + "AAA")

    assert followed.status == 302, followed.text
    assert followed.headers["location"] == "https://cinema.example/watch?id=7"
    assert opened.status == 200
    assert opened.headers["content-type"] == "image/gif"
    assert base64.b64decode(opened.text).startswith(b"GIF89a")
    assert forged.status == 400
    assert forged.json["errors"][0]["loc"] == ["path", "token"]
    seen = notification(api, event_id, "email")["engagement"]
    assert seen["clicked_at"] is not None
    assert seen["opened_at"] is not None
    stats = api.get("/stats", query={"since": (datetime.now(UTC) - timedelta(hours=1)).isoformat()})
    [item] = [i for i in stats.json["items"] if i["event_type"] == "tracked" and i["channel"] == "email"]
    assert (item["opened"], item["clicked"], item["open_rate"], item["click_rate"]) == (1, 1, 1.0, 1.0)
