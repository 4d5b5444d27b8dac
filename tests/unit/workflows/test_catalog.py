"""Workflows as data: versions, reads, archiving and previews, over the fake store."""

import uuid
from datetime import timedelta

import pytest

from notify.channels import Channel
from notify.errors import InvalidInput, NotFound, StateConflict
from notify.events.models import DirectoryMovie, DirectoryUser
from notify.workflows import (
    KeptVersions,
    PreviewRequest,
    ServiceTemplates,
    WorkflowDefinition,
    archive_workflow,
    builtin_definitions,
    describe_workflow,
    page_workflows,
    preview_workflow,
    put_workflow,
    read_version,
)
from tests.fakes import FakeEventStore
from tests.unit.builders import NOW

USER = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000001")
MOVIE = uuid.UUID("7c2b3a1e-5d4f-4e6a-9b8c-0d1e2f3a4b5c")


def expiring(text: str = "Your subscription ends in 3 days, {{ user.first_name }}") -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(
        {
            "description": "subscription ends soon",
            "steps": [{"type": "send", "channel": "sms"}, {"type": "send", "channel": "email"}],
            "templates": {
                "sms": {"en": {"text": text}},
                "email": {
                    "en": {
                        "subject": "Ends soon",
                        "text": "Renew: {{ content | movies(locale) }}",
                        "html": "<p>{{ user.first_name }}</p>",
                    },
                    "ru": {"subject": "Скоро", "text": "Продлите", "html": "<p>Продлите</p>"},
                },
            },
        }
    )


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore(clock=lambda: NOW)
    store.upsert_users(
        [DirectoryUser(user_id=USER, first_name="<Ann>", email="ann@example.com", phone="+447700900123")]
    )
    store.upsert_movies([DirectoryMovie(movie_id=MOVIE, title="Dune", season=1)])
    return store


def test_each_put_is_a_new_immutable_version(store: FakeEventStore) -> None:
    first = put_workflow("subscription_expiring", expiring(), now=NOW, store=store)
    second = put_workflow(
        "subscription_expiring", expiring("changed"), now=NOW + timedelta(minutes=1), store=store
    )

    view = describe_workflow("subscription_expiring", store=store)
    assert (first.version, first.created, second.version, second.created) == (1, True, 2, False)
    assert (view.version, view.state, view.built_in) == (2, "active", False)
    assert [v.version for v in view.versions] == [1, 2]
    assert read_version("subscription_expiring", 1, store=store).definition == expiring()
    assert read_version("subscription_expiring", 2, store=store).definition == expiring("changed")


def test_an_invalid_definition_saves_nothing(store: FakeEventStore) -> None:
    with pytest.raises(InvalidInput):
        put_workflow("subscription_expiring", expiring("{{ oops"), now=NOW, store=store)

    with pytest.raises(NotFound):
        describe_workflow("subscription_expiring", store=store)


def test_archiving_stops_new_events_and_a_put_makes_it_active_again(store: FakeEventStore) -> None:
    put_workflow("subscription_expiring", expiring(), now=NOW, store=store)

    archive_workflow("subscription_expiring", now=NOW, store=store)
    archived = describe_workflow("subscription_expiring", store=store)
    listed = page_workflows(limit=100, cursor=None, include_archived=False, store=store)
    assert archived.state == "archived"
    assert store.current_version("subscription_expiring") is None
    assert "subscription_expiring" not in [item.key for item in listed.items]

    put_workflow("subscription_expiring", expiring("back"), now=NOW, store=store)
    assert store.current_version("subscription_expiring") is not None
    assert describe_workflow("subscription_expiring", store=store).state == "active"


def test_a_built_in_changes_but_is_never_archived(store: FakeEventStore) -> None:
    saved = put_workflow("new_episode", expiring(), now=NOW, store=store)

    with pytest.raises(StateConflict, match="built-in"):
        archive_workflow("new_episode", now=NOW, store=store)
    with pytest.raises(NotFound):
        archive_workflow("no_such_workflow", now=NOW, store=store)
    assert saved.version == 2
    assert describe_workflow("new_episode", store=store).built_in
    assert store.current_version("new_episode") is not None


def test_the_list_pages_by_key(store: FakeEventStore) -> None:
    first = page_workflows(limit=3, cursor=None, include_archived=False, store=store)
    rest = page_workflows(limit=3, cursor=first.next_cursor, include_archived=False, store=store)

    assert [item.key for item in first.items + rest.items] == [
        "comment_liked",
        "new_episode",
        "new_releases_promo",
        "watch_later_reminder",
    ]
    assert rest.next_cursor is None


def test_preview_renders_each_channel_as_the_senders_would(store: FakeEventStore) -> None:
    put_workflow("subscription_expiring", expiring(), now=NOW, store=store)

    view = preview_workflow(
        "subscription_expiring",
        PreviewRequest(user_id=str(USER), content=[str(MOVIE)]),
        store=store,
        directory=store,
        service=ServiceTemplates(),
    )
    in_russian = preview_workflow(
        "subscription_expiring",
        PreviewRequest(user_id=str(USER), locale="ru"),
        store=store,
        directory=store,
        service=ServiceTemplates(),
    )

    assert view.sms is not None
    assert view.sms.text == "Your subscription ends in 3 days, <Ann>"
    assert view.email is not None
    assert view.email.subject == "Ends soon"
    assert view.email.text.startswith("Renew: «Dune», season 1\n\n--\nUnsubscribe from these e-mails: ")
    assert view.email.html is not None
    assert "<p>&lt;Ann&gt;</p>" in view.email.html
    # a real link would let a reader of workflows unsubscribe anyone: the preview's goes nowhere
    assert "notify.invalid" in view.email.text
    assert view.push is None
    assert in_russian.email is not None
    assert in_russian.email.subject == "Скоро"
    assert in_russian.sms is not None
    assert in_russian.sms.text.startswith("Your subscription")


def test_preview_names_an_unknown_user_or_movie(store: FakeEventStore) -> None:
    put_workflow("subscription_expiring", expiring(), now=NOW, store=store)
    stranger, unknown_movie = str(uuid.uuid4()), str(uuid.uuid4())

    with pytest.raises(InvalidInput) as no_user:
        preview_workflow(
            "subscription_expiring",
            PreviewRequest(user_id=stranger),
            store=store,
            directory=store,
            service=ServiceTemplates(),
        )
    with pytest.raises(InvalidInput) as no_movie:
        preview_workflow(
            "subscription_expiring",
            PreviewRequest(user_id=str(USER), content=[str(MOVIE), unknown_movie]),
            store=store,
            directory=store,
            service=ServiceTemplates(),
        )

    assert [p.loc for p in no_user.value.problems] == [("body", "user_id")]
    assert [p.loc for p in no_movie.value.problems] == [("body", "content", 1)]


def test_kept_versions_read_each_version_once_and_give_its_channels(store: FakeEventStore) -> None:
    put_workflow("subscription_expiring", expiring(), now=NOW, store=store)
    kept = KeptVersions(store)

    assert kept.channels("subscription_expiring", 1) == {Channel.SMS: 0, Channel.EMAIL: 0}
    store.down = True  # kept: no read needed any more
    assert kept.channels("subscription_expiring", 1) == {Channel.SMS: 0, Channel.EMAIL: 0}
    with pytest.raises(Exception, match="down"):
        kept.channels("subscription_expiring", 2)


def test_preview_shows_no_contact_of_the_user(store: FakeEventStore) -> None:
    # The review: a key that may read workflows read any user's e-mail, phone and push token this way.
    nosy = WorkflowDefinition.model_validate(
        {
            "steps": [{"type": "send", "channel": "sms"}],
            "templates": {"sms": {"en": {"text": "{{ user.email }} {{ user.phone }} {{ user.push_token }}"}}},
        }
    )
    put_workflow("nosy", nosy, now=NOW, store=store)

    view = preview_workflow(
        "nosy", PreviewRequest(user_id=str(USER)), store=store, directory=store, service=ServiceTemplates()
    )

    assert view.sms is not None
    assert view.sms.text == "(hidden) (hidden) (hidden)"


def test_seeds_from_any_configuration_are_valid_workflows() -> None:
    # The review: settings valid before workflows (40 days, 0, a 60-day cap window) stopped the migrations.
    seeds = builtin_definitions(
        {"new_episode": 3_456_000, "comment_liked": 0},
        {"new_releases_promo": {"email": (3, 60 * 86400)}, "new_episode": {"sms": (0, 60)}},
        {"comment_liked": 90 * 86400},
    )

    assert seeds["new_episode"].controls.max_age_seconds == 3_456_000
    assert seeds["comment_liked"].controls.max_age_seconds is None
    assert seeds["new_releases_promo"].controls.frequency_caps == {Channel.EMAIL: (3, 60 * 86400)}
    assert seeds["new_episode"].controls.frequency_caps == {}
    assert seeds["comment_liked"].controls.digest_window_seconds == 30 * 86400
