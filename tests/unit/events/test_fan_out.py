"""Events to an audience: accepted at once, fanned out in steps by cursor (the request's first steps,
the tick's the rest), to the members of when it was accepted, through the same controls as a list."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from notify.channels import Channel, QueueRouter
from notify.delivery.models import NotificationMessage
from notify.errors import InvalidInput
from notify.events.fan_out import FanOutPolicy, advance_fan_outs
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryMovie, DirectoryUser, EventAccepted, EventRequest
from notify.tick import run_tick
from notify.workflows import KeptVersions, WorkflowDefinition
from tests.fakes import FakeEventStore, FakePublisher
from tests.unit.builders import NOW, tick_policy

MOVIE = uuid.UUID("7c2b3a1e-5d4f-4e6a-9b8c-0d1e2f3a4b5c")
TOPIC = "series:7c2b3a1e"
ROUTER = QueueRouter("notify")


def user(n: int, *, email: bool = True, phone: str | None = None) -> DirectoryUser:
    return DirectoryUser(
        user_id=uuid.UUID(int=n), email=f"user{n}@example.com" if email else None, phone=phone
    )


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore(clock=lambda: NOW)
    store.upsert_users(
        [user(n) for n in range(1, 8)] + [user(8, email=False, phone="+447700900123"), user(9, email=False)]
    )
    store.upsert_movies([DirectoryMovie(movie_id=MOVIE, title="The Long Night", season=2, episode=5)])
    store.put_topic(TOPIC, "followers")
    # 1–5 and 8 follow the series; 6, 7 and 9 do not.
    store.change_subscribers(TOPIC, [str(uuid.UUID(int=n)) for n in (1, 2, 3, 4, 5, 8)], [])
    return store


def to_audience(topic: str = TOPIC, **changes: Any) -> EventRequest:
    body: dict[str, Any] = {
        "event_type": "new_episode",
        "created_dt": "2025-03-14T08:59:00+00:00",
        "payload": {"audience": topic, "content": [str(MOVIE)]},
    }
    body.update(changes)
    return EventRequest.model_validate(body)


def accept(
    store: FakeEventStore,
    publisher: FakePublisher,
    request: EventRequest | None = None,
    *,
    step: int = 2,
    inline_s: float = 0.0,
    time_left: Callable[[], float] = lambda: 0.0,
) -> EventAccepted:
    return accept_event(
        request or to_audience(),
        now=NOW,
        ports=IngestPorts(
            events=store,
            directory=store,
            outbox=store,
            publisher=publisher,
            audiences=store,
            fan_outs=store,
        ),
        policy=IngestPolicy(router=ROUTER, chunk_size=2, fan_out_step=step, fan_out_inline_s=inline_s),
        time_left=time_left,
    )


def reached(publisher: FakePublisher) -> list[tuple[Channel, int]]:
    """(channel, user number) of every recipient of every published message, in publishing order."""
    out = []
    for published in publisher.published:
        message = NotificationMessage.model_validate_json(published.body)
        out += [(message.transport_type, r.user_id.int) for r in message.payload.user]
    return out


def step_all(store: FakeEventStore, publisher: FakePublisher, step: int = 2) -> int:
    return advance_fan_outs(
        fan_outs=store,
        outbox=store,
        publisher=publisher,
        policy=FanOutPolicy(router=ROUTER, step_members=step, chunk_size=2),
        now=lambda: NOW,
        time_left=lambda: 60.0,
    ).steps


def test_accept_event_to_an_audience_without_time_answers_queued_and_makes_nothing_yet(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()

    answer = accept(store, publisher)

    assert (answer.status, answer.recipients, answer.notifications) == ("queued", 6, 0)
    assert answer.fan_out is not None
    assert (answer.fan_out.recipients, answer.fan_out.done, answer.fan_out.complete) == (6, 0, False)
    assert publisher.published == []
    assert store.rows == {}


def test_accept_event_to_an_audience_steps_it_while_the_request_has_time(store: FakeEventStore) -> None:
    publisher = FakePublisher()

    answer = accept(store, publisher, inline_s=5.0, time_left=lambda: 30.0)

    assert answer.fan_out is not None
    assert (answer.fan_out.done, answer.fan_out.complete) == (6, True)
    # Users 1–5 by e-mail, 8 by SMS (a new_episode goes out on every channel it has a contact on).
    assert sorted(reached(publisher)) == [(Channel.EMAIL, n) for n in range(1, 6)] + [(Channel.SMS, 8)]
    assert answer.notifications == 6


def test_advance_fan_outs_in_steps_reaches_every_member_once_in_user_order(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    answer = accept(store, publisher)

    steps = step_all(store, publisher, step=2)

    # 6 members by 2: three full steps, and a fourth that finds none left and completes the fan-out.
    assert steps == 4
    assert [n for _, n in reached(publisher)] == [1, 2, 3, 4, 5, 8]
    view = store.event_view(answer.event_id)
    assert view is not None
    assert view.fan_out is not None
    assert (view.fan_out.done, view.fan_out.complete, view.notifications) == (6, True, 6)
    assert step_all(store, publisher) == 0  # nothing left to step


def test_advance_fan_outs_stops_when_no_step_fits_in_the_time_left(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    accept(store, publisher)

    def time_left() -> float:  # each step of 2 members "takes" 4 s of the 10 s there were
        return 10.0 - 4.0 * sum(record.fan_out_done for record in store.events.values()) / 2

    report = advance_fan_outs(
        fan_outs=store,
        outbox=store,
        publisher=publisher,
        policy=FanOutPolicy(router=ROUTER, step_members=2, chunk_size=2),
        now=lambda: NOW,
        time_left=time_left,
    )

    # 10 s left: a step (to 6 s); 6 s > the 4 s it took: another (to 2 s); 2 s < 4 s: stop.
    assert (report.steps, report.members, report.completed) == (2, 4, 0)
    assert len(reached(publisher)) == 4


def test_accept_event_to_an_audience_reaches_only_members_of_when_it_was_accepted(
    store: FakeEventStore,
) -> None:
    publisher, later = FakePublisher(), NOW + timedelta(seconds=1)
    accept(store, publisher)
    store.clock = lambda: later
    store.change_subscribers(TOPIC, [str(uuid.UUID(int=6))], [str(uuid.UUID(int=2))])

    step_all(store, publisher)

    # 6 joined after the event: not reached; 2 left before its step: not reached either.
    assert sorted(n for _, n in reached(publisher)) == [1, 3, 4, 5, 8]


def test_accept_event_to_all_reaches_every_directory_user_with_a_contact(store: FakeEventStore) -> None:
    publisher = FakePublisher()

    answer = accept(store, publisher, to_audience("all"), inline_s=5.0, time_left=lambda: 30.0)

    assert answer.recipients == 9  # the directory's users, counted when accepted
    assert sorted(n for _, n in reached(publisher)) == [1, 2, 3, 4, 5, 6, 7, 8]  # 9 has no contact


def test_accept_event_to_an_unknown_topic_is_invalid_and_stores_nothing(store: FakeEventStore) -> None:
    with pytest.raises(InvalidInput) as caught:
        accept(store, FakePublisher(), to_audience("series:none"))

    assert [(p.loc, p.msg) for p in caught.value.problems] == [
        (("body", "payload", "audience"), "unknown topic series:none")
    ]
    assert store.events == {}


def test_accept_event_to_an_audience_on_a_schedule_stores_the_topic_not_its_members(
    store: FakeEventStore,
) -> None:
    answer = accept(store, FakePublisher(), to_audience(schedule="0 9 * * *", timezone="UTC"))

    assert (answer.status, answer.recipients) == ("scheduled", 6)
    assert answer.schedule_id is not None
    schedule = store.schedules[answer.schedule_id]
    assert (schedule.audience, list(schedule.user_ids)) == (TOPIC, [])


def test_run_tick_steps_the_fan_outs_left_while_its_time_allows(store: FakeEventStore) -> None:
    publisher = FakePublisher()
    accept(store, publisher)

    report = run_tick(
        now=NOW,
        schedules=store,  # type: ignore[arg-type]  # only fire_due is used
        outbox=store,
        publisher=publisher,
        policy=tick_policy(chunk_size=2),
        waiting=store,
        fan_outs=store,
        time_left=lambda: 50.0,
    )

    assert (report.fan_out_members, report.fan_outs_completed) == (6, 1)
    assert sorted(n for _, n in reached(publisher)) == [1, 2, 3, 4, 5, 8]


def test_an_audience_event_of_a_saved_workflow_is_stepped_inside_the_request_on_its_channels(
    store: FakeEventStore,
) -> None:
    publisher = FakePublisher()
    # The review's first finding: the request's own steps routed by the built-ins' channels and failed
    # for any other workflow, after the event was committed.
    store.save_version(
        "match_starts",
        WorkflowDefinition.model_validate(
            {
                "steps": [{"type": "send", "channel": "sms"}],
                "templates": {"sms": {"en": {"text": "the match starts in 10 minutes"}}},
            }
        ),
        NOW,
    )
    request = to_audience(event_type="match_starts")

    answer = accept_event(
        request,
        now=NOW,
        ports=IngestPorts(
            events=store,
            directory=store,
            outbox=store,
            publisher=publisher,
            audiences=store,
            fan_outs=store,
            workflows=store,
        ),
        policy=IngestPolicy(
            router=ROUTER,
            chunk_size=2,
            fan_out_step=2,
            fan_out_inline_s=5.0,
            channels_of=KeptVersions(store).channels,
        ),
        time_left=lambda: 10.0,
    )

    assert answer.fan_out is not None
    assert answer.fan_out.complete
    assert reached(publisher) == [(Channel.SMS, 8)]  # the one member with a phone
