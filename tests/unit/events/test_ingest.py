import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notify.channels import Channel, EventType, QueueRouter
from notify.delivery.models import NotificationMessage
from notify.errors import IdempotencyConflict, InvalidInput, StorageUnavailable
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryMovie, DirectoryUser, EventAccepted, EventRequest
from notify.events.ports import StoredEvent
from notify.outbox.ports import OutboundMessage, PublishOutcome
from notify.outbox.relay import Relayed, publish_outbox, republish_unpublished
from notify.workflows import WorkflowDefinition
from tests.fakes import FakeEventStore, FakePublisher
from tests.unit.builders import NOW

ALICE = uuid.UUID("a1a1a1a1-0000-4000-8000-000000000001")  # e-mail, phone and push
BORIS = uuid.UUID("b2b2b2b2-0000-4000-8000-000000000002")  # e-mail only
CAROL = uuid.UUID("c3c3c3c3-0000-4000-8000-000000000003")  # no contact at all
UNKNOWN = "d4d4d4d4-0000-4000-8000-000000000004"
MOVIE = uuid.UUID("7c2b3a1e-5d4f-4e6a-9b8c-0d1e2f3a4b5c")
OTHER_MOVIE = uuid.UUID("8d3c4b2f-6e5a-4f7b-8c9d-1e2f3a4b5c6d")


@pytest.fixture
def store() -> FakeEventStore:
    return directory_store()


def directory_store() -> FakeEventStore:
    """Alice (every contact), Boris (e-mail), Carol (none), and two movies."""
    store = FakeEventStore(clock=lambda: NOW)
    store.upsert_users(
        [
            DirectoryUser(
                user_id=ALICE, email="alice@example.com", phone="+447700900123", push_token="tok-a"
            ),
            DirectoryUser(user_id=BORIS, email="boris@example.ru", locale="ru"),
            DirectoryUser(user_id=CAROL),
        ]
    )
    store.upsert_movies(
        [
            DirectoryMovie(movie_id=MOVIE, title="The Long Night", season=2, episode=5),
            DirectoryMovie(movie_id=OTHER_MOVIE, title="Dune"),
        ]
    )
    return store


def request(**changes: Any) -> EventRequest:
    body: dict[str, Any] = {
        "event_type": "new_episode",
        "created_dt": "2025-03-14T08:59:00+00:00",
        "priority": 7,
        "payload": {"user": [str(ALICE), str(BORIS), str(CAROL), UNKNOWN], "content": [str(MOVIE)]},
    }
    body.update(changes)
    return EventRequest.model_validate(body)


def accept(
    req: EventRequest,
    store: FakeEventStore,
    publisher: FakePublisher,
    *,
    key: str | None = None,
    now: datetime = NOW,
    chunk_size: int = 250,
) -> EventAccepted:
    return accept_event(
        req,
        now=now,
        ports=IngestPorts(events=store, directory=store, outbox=store, publisher=publisher, workflows=store),
        policy=IngestPolicy(router=QueueRouter("notify"), chunk_size=chunk_size),
        idempotency_key=key,
    )


def bodies(publisher: FakePublisher) -> list[NotificationMessage]:
    return [NotificationMessage.model_validate_json(message.body) for message in publisher.published]


def test_accept_event_fans_out_to_each_channel_queue_of_the_tier(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()

    answer = accept(request(), store, publisher)

    assert answer.status == "queued"
    assert answer.recipients == 2  # Alice and Boris; Carol has no contact
    assert answer.notifications == 4  # Alice on e-mail, SMS and push; Boris on e-mail
    assert answer.skipped_users == [UNKNOWN]
    assert answer.schedule_id is None
    assert answer.next_run_at is None
    assert sorted(message.queue for message in publisher.published) == [
        "notify-email-high",
        "notify-push-high",
        "notify-sms-high",
    ]
    by_channel = {message.transport_type: message for message in bodies(publisher)}
    assert {u.user_id for u in by_channel[Channel.EMAIL].payload.user} == {ALICE, BORIS}
    assert [u.phone for u in by_channel[Channel.SMS].payload.user] == ["+447700900123"]
    assert [(u.push_token, u.email) for u in by_channel[Channel.PUSH].payload.user] == [("tok-a", None)]
    for message in by_channel.values():
        assert message.event_id == answer.event_id
        assert message.event_type is EventType.NEW_EPISODE
        assert [c.title for c in message.payload.content] == ["The Long Night"]
    assert store.unpublished() == []
    assert {row.published_at for row in store.outbox.values()} == {NOW}


def test_accept_event_priority_picks_the_queue_tier(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    accept(request(priority=1, payload={"user": [str(BORIS)]}), store, publisher)
    accept(request(priority=4, payload={"user": [str(BORIS)]}), store, publisher)
    assert [message.queue for message in publisher.published] == ["notify-email-low", "notify-email-normal"]


def test_accept_event_chunks_recipients_into_messages(store: FakeEventStore) -> None:
    many = [DirectoryUser(user_id=uuid.uuid4(), email=f"u{i}@example.com") for i in range(5)]
    store.upsert_users(many)
    publisher = FakePublisher()

    answer = accept(
        request(event_type="new_releases_promo", payload={"user": [str(u.user_id) for u in many]}),
        store,
        publisher,
        chunk_size=2,
    )

    assert answer.notifications == 5
    assert [len(message.payload.user) for message in bodies(publisher)] == [2, 2, 1]
    assert {u.user_id for message in bodies(publisher) for u in message.payload.user} == {
        u.user_id for u in many
    }


def test_accept_event_unknown_content_id_is_invalid_input_naming_its_index(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    missing = "99999999-0000-4000-8000-000000000000"

    with pytest.raises(InvalidInput) as caught:
        accept(request(payload={"user": [str(ALICE)], "content": [str(MOVIE), missing]}), store, publisher)

    [problem] = caught.value.problems
    assert problem.loc == ("body", "payload", "content", 1)
    assert missing in problem.msg
    assert "payload.content.1" in str(caught.value)
    assert store.events == {}
    assert store.outbox == {}
    assert publisher.published == []


def test_accept_event_content_ids_match_in_any_case(store: FakeEventStore) -> None:
    answer = accept(
        request(payload={"user": [str(ALICE)], "content": [str(MOVIE).upper()]}), store, FakePublisher()
    )
    assert answer.notifications == 3


def test_accept_event_idempotent_replay_returns_the_same_answer_and_creates_nothing(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()
    first = accept(request(), store, publisher, key="key-1")
    events, outbox, published = len(store.events), len(store.outbox), len(publisher.published)

    again = accept(request(), store, publisher, key="key-1")

    assert again == first
    assert (len(store.events), len(store.outbox), len(publisher.published)) == (events, outbox, published)


def test_accept_event_same_key_different_body_is_a_conflict(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    accept(request(), store, publisher, key="key-1")

    with pytest.raises(IdempotencyConflict, match="different body"):
        accept(request(priority=2), store, publisher, key="key-1")
    assert len(store.events) == 1


def test_accept_event_without_key_creates_a_new_event_each_time(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    first = accept(request(), store, publisher)
    second = accept(request(), store, publisher)
    assert first.event_id != second.event_id
    assert len(store.events) == 2


class RacingStore(FakeEventStore):
    """A store where another request with the same key commits between the lookup and the insert."""

    def __init__(self, winner: StoredEvent | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.winner = winner
        self.lookups = 0

    def find_by_idempotency_key(self, key: str) -> StoredEvent | None:
        self.lookups += 1
        if self.lookups == 1:
            return None
        return self.winner


def test_accept_event_concurrent_duplicate_key_answers_as_the_first_request(store: FakeEventStore) -> None:
    first = accept(request(), store, FakePublisher(), key="key-1")
    winner = store.find_by_idempotency_key("key-1")
    racing = RacingStore(winner, users=store.users, movies=store.movies, events=store.events)
    publisher = FakePublisher()

    again = accept(request(), racing, publisher, key="key-1")

    assert again == first
    assert racing.lookups == 2
    assert publisher.published == []


def test_accept_event_concurrent_key_still_in_flight_is_a_conflict(store: FakeEventStore) -> None:
    accept(request(), store, FakePublisher(), key="key-1")
    racing = RacingStore(None, users=store.users, movies=store.movies, events=store.events)

    with pytest.raises(IdempotencyConflict, match="still in flight"):
        accept(request(), racing, FakePublisher(), key="key-1")


def test_accept_event_broker_down_still_accepts_and_relay_publishes_later(store: FakeEventStore) -> None:
    publisher = FakePublisher(down=True)

    answer = accept(request(), store, publisher)

    assert answer.status == "queued"
    assert answer.notifications == 4
    assert publisher.published == []
    stranded = store.unpublished()
    assert len(stranded) == 3

    # Still down at the next tick: nothing goes out, nothing is lost.
    later = NOW + timedelta(seconds=60)
    assert republish_unpublished(publisher=publisher, outbox=store, now=later, grace_s=30).published == 0
    assert len(store.unpublished()) == 3

    publisher.down = False
    # The lease of the failed attempt has to run out first.
    assert republish_unpublished(publisher=publisher, outbox=store, now=later, grace_s=30).published == 0
    much_later = later + timedelta(seconds=61)
    assert republish_unpublished(publisher=publisher, outbox=store, now=much_later, grace_s=30).published == 3

    assert sorted(m.message_id for m in publisher.published) == sorted(m.message_id for m in stranded)
    assert store.unpublished() == []
    assert republish_unpublished(publisher=publisher, outbox=store, now=much_later, grace_s=30).published == 0
    assert len(publisher.published) == 3


class FailingMarkStore(FakeEventStore):
    """A store that commits events but cannot record that their messages went out."""

    def mark_published(self, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
        raise StorageUnavailable("postgres: OperationalError")


class ExplodingPublisher(FakePublisher):
    def publish(self, messages: Sequence[OutboundMessage]) -> PublishOutcome:
        raise RuntimeError("something nobody expected")


@pytest.mark.parametrize(
    ("make_store", "publisher"),
    [(FailingMarkStore, FakePublisher()), (FakeEventStore, ExplodingPublisher())],
    ids=["mark_published fails", "publish raises anything"],
)
def test_accept_event_answers_once_committed_whatever_publishing_does(
    store: FakeEventStore, make_store: type[FakeEventStore], publisher: FakePublisher
) -> None:
    failing = make_store(users=store.users, movies=store.movies, clock=lambda: NOW)

    answer = accept(request(), failing, publisher)

    assert (answer.status, answer.recipients, answer.notifications) == ("queued", 2, 4)
    assert answer.event_id in failing.events
    assert len(failing.unpublished()) == 3  # left for the relay
    assert len(failing.rows) == 4


def test_accept_event_cuts_messages_to_fit_the_store_limit(store: FakeEventStore) -> None:
    long = [DirectoryUser(user_id=uuid.uuid4(), push_token=f"{n}" + "t" * 4000) for n in range(6)]
    store.upsert_users(long)
    store.max_message_bytes = 10_000
    publisher = FakePublisher()

    accept(request(payload={"user": [str(u.user_id) for u in long]}), store, publisher)

    assert [len(m.payload.user) for m in bodies(publisher)] == [2, 2, 2]
    assert max(len(m.body) for m in publisher.published) <= 10_000


def test_republish_unpublished_leaves_messages_younger_than_the_grace(store: FakeEventStore) -> None:
    accept(request(), store, FakePublisher(down=True))
    publisher = FakePublisher()

    assert (
        republish_unpublished(
            publisher=publisher, outbox=store, now=NOW + timedelta(seconds=10), grace_s=30
        ).published
        == 0
    )
    assert publisher.published == []
    assert (
        republish_unpublished(
            publisher=publisher, outbox=store, now=NOW + timedelta(seconds=31), grace_s=30
        ).published
        == 3
    )


def test_republish_unpublished_works_in_batches(store: FakeEventStore) -> None:
    accept(request(), store, FakePublisher(down=True))
    publisher = FakePublisher()

    count = republish_unpublished(
        publisher=publisher, outbox=store, now=NOW + timedelta(minutes=5), grace_s=30, batch_size=2
    )

    assert count == Relayed(published=3)
    assert len(publisher.published) == 3


def test_publish_outbox_reports_what_became_of_the_messages(store: FakeEventStore) -> None:
    accept(request(), store, FakePublisher(down=True))
    messages = store.unpublished()

    assert publish_outbox(messages, publisher=FakePublisher(down=True), outbox=store, now=NOW) == Relayed(
        left=3
    )
    assert len(store.unpublished()) == 3
    assert publish_outbox(messages, publisher=FakePublisher(), outbox=store, now=NOW) == Relayed(published=3)
    assert store.unpublished() == []


def test_accept_event_with_schedule_is_scheduled_with_next_run_at(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    now = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # 15:00 in Moscow

    answer = accept(request(schedule="0 9 * * *", timezone="Europe/Moscow"), store, publisher, now=now)

    assert answer.status == "scheduled"
    assert answer.next_run_at == datetime(2025, 3, 15, 6, 0, tzinfo=UTC)
    assert answer.schedule_id is not None
    assert answer.recipients == 2
    assert answer.notifications == 0
    assert answer.skipped_users == [UNKNOWN]
    assert publisher.published == []
    assert store.outbox == {}
    assert store.rows == {}
    schedule = store.schedules[answer.schedule_id]
    assert schedule.cron == "0 9 * * *"
    assert schedule.content_ids == [str(MOVIE)]
    assert store.events[answer.event_id].status == "scheduled"


def test_accept_event_future_start_dt_is_scheduled_for_that_moment(store: FakeEventStore) -> None:
    start = NOW + timedelta(hours=3)
    publisher = FakePublisher()

    answer = accept(request(start_dt=start.isoformat()), store, publisher)

    assert answer.status == "scheduled"
    assert answer.next_run_at == start
    assert publisher.published == []


def test_accept_event_cron_due_at_now_runs_first_at_now(store: FakeEventStore) -> None:
    answer = accept(request(schedule="*/30 * * * *"), store, FakePublisher(), now=NOW)
    assert answer.next_run_at == NOW


def test_accept_event_past_start_dt_is_queued_now(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    answer = accept(request(start_dt=(NOW - timedelta(minutes=1)).isoformat()), store, publisher)
    assert answer.status == "queued"
    assert len(publisher.published) == 3


def test_accept_event_cron_with_start_dt_on_a_cron_moment_runs_first_at_start(store: FakeEventStore) -> None:
    start = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)
    answer = accept(request(schedule="0 9 * * *", start_dt=start.isoformat()), store, FakePublisher())
    assert answer.next_run_at == start


def test_accept_event_scheduled_replay_returns_the_same_next_run(store: FakeEventStore) -> None:
    req = request(schedule="*/30 * * * *")
    now = NOW + timedelta(minutes=1)
    first = accept(req, store, FakePublisher(), key="cron-key", now=now)
    again = accept(req, store, FakePublisher(), key="cron-key", now=now + timedelta(hours=1))
    assert first.next_run_at == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert again == first
    assert len(store.schedules) == 1


def test_accept_event_content_over_its_limit_is_422_naming_the_content_and_stores_nothing(
    store: FakeEventStore,
) -> None:
    """1,000 movies of 500-character titles make content larger than a queue message: refused, not
    cut into one message per recipient, each too large to publish."""
    long = [DirectoryMovie(movie_id=uuid.uuid4(), title="T" * 500) for _ in range(1000)]
    store.upsert_movies(long)
    publisher = FakePublisher()

    with pytest.raises(InvalidInput) as refused:
        accept(
            request(payload={"user": [str(ALICE)], "content": [str(m.movie_id) for m in long]}),
            store,
            publisher,
        )

    [problem] = refused.value.problems
    assert problem.loc == ("body", "payload", "content")
    assert "60000 bytes" in problem.msg
    assert store.events == {}
    assert publisher.published == []


def test_accept_event_content_within_its_limit_is_accepted(store: FakeEventStore) -> None:
    some = [DirectoryMovie(movie_id=uuid.uuid4(), title="T" * 500) for _ in range(50)]
    store.upsert_movies(some)

    accepted = accept(
        request(payload={"user": [str(ALICE)], "content": [str(m.movie_id) for m in some]}),
        store,
        FakePublisher(),
    )

    assert accepted.status == "queued"


# ---- workflows: the event type is an active workflow's key ---------------------------------------


def custom_workflow(**changes: Any) -> WorkflowDefinition:
    document: dict[str, Any] = {
        "priority": 8,
        "steps": [{"type": "send", "channel": "push"}, {"type": "send", "channel": "sms"}],
        "templates": {
            "push": {"en": {"title": "Ends soon", "body": "{{ content | movies(locale) }}"}},
            "sms": {"en": {"text": "Your subscription ends in 3 days"}},
        },
    }
    document.update(changes)
    return WorkflowDefinition.model_validate(document)


def test_accept_event_refuses_an_unknown_event_type_naming_the_field(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()
    with pytest.raises(InvalidInput) as refused:
        accept(request(event_type="birthday_cake"), store, publisher)

    assert [problem.loc for problem in refused.value.problems] == [("body", "event_type")]
    assert "no active workflow 'birthday_cake'" in refused.value.problems[0].msg
    assert store.events == {}
    assert publisher.published == []


def test_accept_event_of_a_saved_workflow_goes_out_on_its_channels_at_its_priority(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()
    store.save_version("subscription_expiring", custom_workflow(), NOW)
    body = request(event_type="subscription_expiring").model_dump(mode="json", exclude={"priority"})

    answer = accept(EventRequest.model_validate(body), store, publisher)

    messages = bodies(publisher)
    assert sorted(message.transport_type for message in messages) == [Channel.PUSH, Channel.SMS]
    assert {message.priority for message in messages} == {8}  # the workflow's: the event gave none
    assert {message.workflow_version for message in messages} == {1}
    assert sorted(m.queue for m in publisher.published) == ["notify-push-high", "notify-sms-high"]
    assert answer.notifications == 2  # Alice has a phone and a push token; nobody else has either


def test_accept_event_gives_its_own_priority_over_the_workflows(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()
    store.save_version("subscription_expiring", custom_workflow(), NOW)

    accept(request(event_type="subscription_expiring", priority=1), store, publisher)

    assert {message.priority for message in bodies(publisher)} == {1}
    assert {m.queue for m in publisher.published} == {"notify-push-low", "notify-sms-low"}


def test_accept_event_runs_the_version_current_when_it_is_accepted(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()
    store.save_version("new_episode", custom_workflow(), NOW)  # version 2 of a built-in

    accept(request(), store, publisher)

    assert {(m.event_type, m.workflow_version) for m in bodies(publisher)} == {("new_episode", 2)}
    assert {m.transport_type for m in bodies(publisher)} == {Channel.PUSH, Channel.SMS}


def test_accept_event_refuses_an_archived_workflow(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    store.save_version("subscription_expiring", custom_workflow(), NOW)
    store.archive_workflow("subscription_expiring", NOW)

    with pytest.raises(InvalidInput) as refused:
        accept(request(event_type="subscription_expiring"), store, publisher)

    assert [problem.loc for problem in refused.value.problems] == [("body", "event_type")]
    assert publisher.published == []
