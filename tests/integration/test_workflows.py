"""Workflows through the HTTP API on the real PostgreSQL: versions, archiving, previews, and events of
a saved workflow rendered from its version (broker faked)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from notify.access import issue_key
from notify.adapters.postgres import PostgresStore
from notify.channels import Channel
from notify.delivery import FixedKey, TemplateRenderer, UnsubscribeLinks, WorkflowRules
from notify.workflows import KeptVersions
from notify_dev.delivering import deliver
from tests.fakes import FakeSender
from tests.integration.conftest import Api
from tests.integration.support import event_body, make_movie, make_user, parse

pytestmark = pytest.mark.integration
SECRET = "workflow-tests-secret-0123456789"


def expiring(text: str = "Your subscription ends in 3 days, {{ user.first_name }}") -> dict[str, Any]:
    return {
        "description": "subscription ends soon",
        "priority": 8,
        "steps": [{"type": "send", "channel": "sms"}, {"type": "send", "channel": "email"}],
        "templates": {
            "sms": {"en": {"text": text}},
            "email": {
                "en": {
                    "subject": "Ends soon",
                    "text": "Renew {{ content | movies(locale) }}",
                    "html": "<p>Renew</p>",
                }
            },
        },
        "controls": {"max_age_seconds": 86400, "quiet_hours": False},
    }


def test_the_migrations_seed_the_four_built_ins_once(store: PostgresStore, pg_dsn: str) -> None:
    store.migrate()
    store.migrate()

    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT w.key, w.built_in, w.current_version, count(v.*) FROM workflows w"
            " JOIN workflow_versions v USING (key) GROUP BY 1, 2, 3 ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("comment_liked", True, 1, 1),
        ("new_episode", True, 1, 1),
        ("new_releases_promo", True, 1, 1),
        ("watch_later_reminder", True, 1, 1),
    ]


def test_put_makes_versions_and_get_reads_them(api: Api) -> None:
    created = api.put("/workflows/subscription_expiring", expiring())
    changed = api.put("/workflows/subscription_expiring", expiring("changed"))
    current = api.get("/workflows/subscription_expiring")
    first = api.get("/workflows/subscription_expiring/versions/1")
    listed = api.get("/workflows")

    assert (created.status, created.json) == (
        201,
        {"key": "subscription_expiring", "version": 1, "created": True},
    )
    assert (changed.status, changed.json["version"]) == (200, 2)
    assert current.json["version"] == 2
    assert [v["version"] for v in current.json["versions"]] == [1, 2]
    assert current.json["definition"]["templates"]["sms"]["en"]["text"] == "changed"
    assert (
        first.json["definition"]["templates"]["sms"]["en"]["text"]
        == expiring()["templates"]["sms"]["en"]["text"]
    )
    assert "subscription_expiring" in [item["key"] for item in listed.json["items"]]
    assert api.get("/workflows/subscription_expiring/versions/3").status == 404


def test_an_event_of_a_saved_workflow_runs_its_current_version_and_renders_as_previewed(
    api: Api, store: PostgresStore
) -> None:
    user = make_user(push=False)
    movie = make_movie()
    store.upsert_users([user])
    store.upsert_movies([movie])
    api.put("/workflows/subscription_expiring", expiring("first"))
    api.put("/workflows/subscription_expiring", expiring())

    accepted = api.post("/events", event_body([user.user_id], "subscription_expiring", [movie.movie_id]))
    preview = api.post(
        "/workflows/subscription_expiring/preview",
        {"user_id": str(user.user_id), "content": [str(movie.movie_id)]},
    )

    assert accepted.status == 202, accepted.text
    messages = parse(api.publisher.published)
    assert sorted(str(m.transport_type) for m in messages) == ["email", "sms"]
    assert {(m.event_type, m.workflow_version, m.priority) for m in messages} == {
        ("subscription_expiring", 2, 8)
    }
    with psycopg.connect(api.dsn) as conn:
        stored = conn.execute(
            "SELECT workflow_version FROM events WHERE event_id = %s", (accepted.json["event_id"],)
        )
        assert stored.fetchone() == (2,)
    renderer = TemplateRenderer(KeptVersions(store))
    sms = next(m for m in messages if m.transport_type is Channel.SMS)
    rendered = renderer.render(
        sms.event_type, Channel.SMS, sms.payload.user[0], sms.payload.content, sms.workflow_version
    )
    assert preview.status == 200, preview.text
    assert (
        rendered.text == preview.json["sms"]["text"] == f"Your subscription ends in 3 days, {user.first_name}"
    )


def test_a_template_error_is_a_422_naming_the_template_and_its_line(api: Api) -> None:
    broken = expiring("fine\nstill fine\n{{ user.first_name | shout }}")

    answer = api.put("/workflows/subscription_expiring", broken)

    assert answer.status == 422, answer.text
    assert answer.json["errors"][0]["loc"] == ["body", "templates", "sms", "en", "text"]
    assert answer.json["errors"][0]["msg"].startswith("line 3: ")
    assert api.get("/workflows/subscription_expiring").status == 404


def test_archived_workflows_take_no_events_and_built_ins_are_never_archived(
    api: Api, store: PostgresStore
) -> None:
    user = make_user()
    store.upsert_users([user])
    api.put("/workflows/subscription_expiring", expiring())

    archived = api.request("DELETE", "/workflows/subscription_expiring")
    refused = api.post("/events", event_body([user.user_id], "subscription_expiring"))
    built_in = api.request("DELETE", "/workflows/new_episode")

    assert archived.status == 204
    assert refused.status == 422
    assert refused.json["errors"][0]["loc"] == ["body", "event_type"]
    assert built_in.status == 409
    assert api.post("/events", event_body([user.user_id], "new_episode")).status == 202


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/workflows/New_Episode"),
        ("PUT", "/workflows/sub-scription"),
        ("PUT", "/workflows/" + "a" * 65),
        ("PUT", "/workflows/a%2Fb"),
        ("GET", "/workflows/new_episode/versions/0"),
        ("GET", "/workflows/new_episode/versions/one"),
        ("GET", "/workflows/new_episode/versions/99999999999"),
    ],
)
def test_a_path_that_names_no_workflow_is_refused_and_changes_nothing(
    api: Api, method: str, path: str
) -> None:
    answer = api.request(method, path, json_body=expiring() if method == "PUT" else None)

    assert 400 <= answer.status < 500, answer.text
    assert api.get("/workflows").json["items"][0]["key"] == "comment_liked"
    assert len(api.get("/workflows").json["items"]) == 4


def test_a_cursor_with_a_nul_byte_is_a_422(api: Api) -> None:
    answer = api.get("/workflows", query={"cursor": "new\x00episode"})

    assert answer.status in (400, 422), answer.text


def test_workflows_need_their_scopes(api: Api, store: PostgresStore) -> None:
    from datetime import UTC, datetime

    reader = issue_key("reader", ["workflows:read"], None, now=datetime.now(UTC), keys=store).key
    sender = issue_key("sender", ["events:write"], None, now=datetime.now(UTC), keys=store).key

    api.api_key = reader
    assert api.get("/workflows").status == 200
    assert api.put("/workflows/subscription_expiring", expiring()).status == 403
    api.api_key = sender
    assert api.get("/workflows/new_episode").status == 403
    assert api.post("/workflows/new_episode/preview", {"user_id": str(uuid.uuid4())}).status == 403


def test_a_saved_workflows_controls_screen_its_sends_and_its_link_unsubscribes_by_its_key(
    api: Api, store: PostgresStore
) -> None:
    user = make_user(phone=False, push=False)  # UTC, default quiet hours 22:00-08:00
    store.upsert_users([user])
    urgent = {
        "steps": [{"type": "send", "channel": "email"}],
        "templates": {"email": {"en": {"subject": "Kick-off", "text": "The match starts in 10 minutes"}}},
        "controls": {"max_age_seconds": 60, "quiet_hours": False},
    }
    assert api.put("/workflows/match_starts", urgent).status == 201
    kept = KeptVersions(store)
    links = UnsubscribeLinks(
        base_url="https://api.example", keys=FixedKey(SECRET), valid_for=timedelta(days=1)
    )
    renderer, sender = TemplateRenderer(kept, links=links), FakeSender()
    night = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)

    def post_and_deliver(created: datetime) -> str:
        body = event_body([user.user_id], "match_starts", created_dt=created.isoformat(), priority=3)
        accepted = api.post("/events", body)
        assert accepted.status == 202, accepted.text
        for message in parse(api.publisher.published[-1:]):
            deliver(message, store, sender, renderer, now=night, rules=WorkflowRules(kept), controls=store)
        return str(accepted.json["event_id"])

    at_night = post_and_deliver(night)
    stale = post_and_deliver(night - timedelta(minutes=2))
    [(address, mail)] = sender.sent
    assert (address, mail.subject) == (user.email, "Kick-off")  # at 23:00: this workflow ignores quiet hours
    assert mail.unsubscribe_url is not None
    token = parse_qs(urlsplit(mail.unsubscribe_url).query)["token"][0]
    api.services.unsubscribe_keys = FixedKey(SECRET)
    assert api.request("POST", "/unsubscribe", query={"token": token}).status == 200
    opted_out = post_and_deliver(night)

    statuses = {
        event_id: [
            (item["status"], item["reason"])
            for item in api.get(f"/events/{event_id}/notifications").json["items"]
        ]
        for event_id in (at_night, stale, opted_out)
    }
    assert statuses == {
        at_night: [("sent", None)],
        stale: [("expired", "stale")],
        opted_out: [("skipped", "opted_out")],
    }
    preferences = api.get(f"/users/{user.user_id}/preferences").json
    assert preferences["workflows"] == {"match_starts": {"email": False, "sms": True, "push": True}}
    assert preferences["new_episode"]["email"] is True
    assert len(sender.sent) == 1
