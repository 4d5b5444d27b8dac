"""Accepting events: validate against the directory, store, fan out, publish."""

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from notify.channels import ChannelsOf, QueueRouter, shipped_channels
from notify.cron import next_run
from notify.errors import (
    DuplicateIdempotencyKey,
    FieldProblem,
    IdempotencyConflict,
    InvalidInput,
)
from notify.events.fan_out import FanOutPolicy, advance_fan_outs
from notify.events.models import DirectoryMovie, EventAccepted, EventRequest, FanOutView
from notify.events.ports import (
    AudienceSizes,
    DeferredEvent,
    Directory,
    EventStore,
    FanOuts,
    NewEvent,
    NewSchedule,
    StoredEvent,
)
from notify.outbox import Outbox, Publisher, publish_after_commit
from notify.workflows import CurrentVersions, ShippedBuiltIns, WorkflowVersion


def request_fingerprint(request: EventRequest) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class IngestPorts:
    """What accepting an event uses: the event store (one transaction holds the event, its rows and
    its outbox messages), the directory it is checked against, and the broker and the outbox's marks
    for publishing after the commit."""

    events: EventStore
    directory: Directory
    outbox: Outbox
    publisher: Publisher
    audiences: AudienceSizes | None = None  # needed for events to an audience
    fan_outs: FanOuts | None = None
    # The workflows an event type names (the built-ins as shipped when no store is given).
    workflows: CurrentVersions = field(default_factory=ShippedBuiltIns)


@dataclass(frozen=True)
class IngestPolicy:
    router: QueueRouter
    chunk_size: int  # recipients per queue message
    fan_out_step: int = 10_000  # an audience's members per fan-out step
    fan_out_inline_s: float = 0.0  # how long the request itself steps an audience's fan-out
    # An event's workflow version → the channels it sends on at once (an audience's fan-out steps route
    # by it): the built-ins as shipped when no store is given.
    channels_of: ChannelsOf = shipped_channels
    # An event's content travels once in every queue message: it may take at most this much of one
    # (bootstrap: a quarter of NOTIFY_MAX_MESSAGE_BYTES), so that every message still has room for
    # its recipients.
    max_content_bytes: int = 60_000


class Lookups:
    """What preparing events reads besides the request: workflows, movies, audiences; each read once
    per request (a batch's events share them)."""

    def __init__(self, ports: IngestPorts, movie_ids: Sequence[str] = ()) -> None:
        self._ports = ports
        self._workflows: dict[str, WorkflowVersion] = {}
        self._audiences: dict[str, int | None] = {}
        self._movies = {str(movie.movie_id): movie for movie in ports.directory.find_movies(movie_ids)}

    def workflow(self, key: str) -> WorkflowVersion:
        """The version an event of type `key` runs: the workflow's current one, if it is active."""
        if key not in self._workflows:
            workflow = self._ports.workflows.current_version(key)
            if workflow is None:
                raise InvalidInput([FieldProblem(("body", "event_type"), f"no active workflow {key!r}")])
            self._workflows[key] = workflow
        return self._workflows[key]

    def movies(self, ids: Sequence[str]) -> list[DirectoryMovie]:
        missing = [movie_id for movie_id in ids if movie_id not in self._movies]
        if missing:
            self._movies.update(
                (str(movie.movie_id), movie) for movie in self._ports.directory.find_movies(missing)
            )
        return [self._movies[movie_id] for movie_id in ids if movie_id in self._movies]

    def audience_size(self, topic: str) -> int:
        if topic not in self._audiences:
            audiences = self._ports.audiences
            self._audiences[topic] = audiences.audience_size(topic) if audiences is not None else None
        size = self._audiences[topic]
        if size is None:
            raise InvalidInput([FieldProblem(("body", "payload", "audience"), f"unknown topic {topic}")])
        return size


def accept_event(
    request: EventRequest,
    *,
    now: datetime,
    ports: IngestPorts,
    policy: IngestPolicy,
    idempotency_key: str | None = None,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    time_left: Callable[[], float] = lambda: 0.0,
) -> EventAccepted:
    """Store the event and its fan-out (an audience's: its first steps while `time_left()` seconds and
    `policy.fan_out_inline_s` allow, the tick the rest), then publish what was made."""
    store = ports.events
    fingerprint = request_fingerprint(request) if idempotency_key else None
    if idempotency_key:
        earlier = store.find_by_idempotency_key(idempotency_key)
        if earlier is not None:
            return replay(earlier, fingerprint)
    event = prepare_event(
        request,
        lookups=Lookups(ports),
        policy=policy,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        new_id=new_id,
    )
    try:
        stored = store_event(request, event, now=now, store=store, new_id=new_id)
    except DuplicateIdempotencyKey as race:
        # Another request with the same key committed first: answer as it did.
        assert idempotency_key is not None
        earlier = store.find_by_idempotency_key(idempotency_key)
        if earlier is None:
            raise IdempotencyConflict(IN_FLIGHT) from race
        return replay(earlier, fingerprint)

    # Committed: the event is accepted whatever publishing does now (the outbox relay delivers).
    if stored.outbox:
        publish_after_commit(stored.outbox, publisher=ports.publisher, outbox=ports.outbox, now=now)
    if stored.fan_out is not None and stored.status == "queued" and ports.fan_outs is not None:
        stored = fan_out_inline(stored, now=now, ports=ports, policy=policy, time_left=time_left)
    return answer(stored)


IN_FLIGHT = "the first request with this key is still in flight"


def prepare_event(
    request: EventRequest,
    *,
    lookups: Lookups,
    policy: IngestPolicy,
    idempotency_key: str | None,
    fingerprint: str | None,
    new_id: Callable[[], uuid.UUID],
) -> NewEvent:
    """The event to store, checked against its workflow, the directory and its audience (InvalidInput
    naming the field of each problem)."""
    workflow = lookups.workflow(request.event_type)
    # The event's priority when it gives one, else its workflow's.
    priority = request.priority if "priority" in request.model_fields_set else workflow.definition.priority
    content_ids = list(dict.fromkeys(str(uuid.UUID(raw)) for raw in request.payload.content))
    movies = lookups.movies(content_ids)
    known = {str(movie.movie_id) for movie in movies}
    unknown = [
        FieldProblem(("body", "payload", "content", index), f"unknown movie id {raw}")
        for index, raw in enumerate(request.payload.content)
        if str(uuid.UUID(raw)) not in known
    ]
    if unknown:
        raise InvalidInput(unknown)
    content_bytes = len(json.dumps([movie.model_dump(mode="json") for movie in movies]).encode())
    if content_bytes > policy.max_content_bytes:
        limit = f"the movies' data may take at most {policy.max_content_bytes} bytes, not {content_bytes}"
        raise InvalidInput([FieldProblem(("body", "payload", "content"), f"is too large: {limit}")])
    audience = request.payload.audience
    audience_size = lookups.audience_size(audience) if audience is not None else 0

    sends = workflow.definition.immediate_sends()
    channels = tuple(sends)
    return NewEvent(
        event_id=new_id(),
        event_type=request.event_type,
        created_dt=request.created_dt,
        priority=priority,
        user_ids=request.payload.user or [],
        content=movies,
        channels=channels,
        queue_by_channel=policy.router.queues_for(channels, priority),
        step_by_channel=sends,
        chunk_size=policy.chunk_size,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        audience=audience,
        audience_size=audience_size,
        workflow_version=workflow.version,
    )


def store_event(
    request: EventRequest,
    event: NewEvent,
    *,
    now: datetime,
    store: EventStore,
    new_id: Callable[[], uuid.UUID],
) -> StoredEvent:
    """Store the event in one transaction: a deferred one as its schedule, else with its fan-out (an
    audience's to come in steps). DuplicateIdempotencyKey if its key was taken meanwhile."""
    if is_deferred(request, now):
        deferred = deferred_event(request, event, now=now, store=store, new_id=new_id)
        return store.create_scheduled_event(
            deferred.event, deferred.schedule, deferred.recipients, deferred.skipped_users
        )
    return store.create_event(event)


def fan_out_inline(
    stored: StoredEvent,
    *,
    now: datetime,
    ports: IngestPorts,
    policy: IngestPolicy,
    time_left: Callable[[], float],
) -> StoredEvent:
    """The first steps of an audience's fan-out, inside the request: a small audience is sent at once."""
    assert ports.fan_outs is not None
    assert stored.fan_out is not None
    # A budget of its own from now, never past what the invocation has left.
    started = time_left()
    budget = min(started, policy.fan_out_inline_s)
    report = advance_fan_outs(
        fan_outs=ports.fan_outs,
        outbox=ports.outbox,
        publisher=ports.publisher,
        policy=FanOutPolicy(
            router=policy.router,
            step_members=policy.fan_out_step,
            chunk_size=policy.chunk_size,
            channels_of=policy.channels_of,
        ),
        now=lambda: now,
        time_left=lambda: budget - (started - time_left()),
        event_id=stored.event_id,
    )
    fan_out = FanOutView(
        recipients=stored.fan_out.recipients, done=report.members, complete=report.completed > 0
    )
    return replace(stored, notifications=report.notifications, fan_out=fan_out)


def is_deferred(request: EventRequest, now: datetime) -> bool:
    return request.schedule is not None or (request.start_dt is not None and request.start_dt > now)


def deferred_event(
    request: EventRequest,
    event: NewEvent,
    *,
    now: datetime,
    store: EventStore,
    new_id: Callable[[], uuid.UUID],
) -> DeferredEvent:
    """A deferred event with its schedule (its first run computed: InvalidInput when the calendar has
    none) and its recipients as counted now."""
    start = max(request.start_dt, now) if request.start_dt else now
    if request.schedule is None:
        assert request.start_dt is not None
        first_run = request.start_dt
    else:
        try:
            # A start_dt that is itself a cron moment is the first run; hence "after" one second before it.
            first_run = next_run(
                request.schedule, request.timezone, start.replace(microsecond=0) - timedelta(seconds=1)
            )
        except (OverflowError, ValueError) as error:  # croniter past year 9999
            problem = FieldProblem(("body", "schedule"), "has no run the calendar can hold after start_dt")
            raise InvalidInput([problem]) from error
    skipped: list[str] = []
    if event.audience is not None:
        recipients = event.audience_size
    else:
        recipients, skipped = store.count_known_users(event.user_ids, event.channels)
    schedule = NewSchedule(
        schedule_id=new_id(),
        event_type=request.event_type,
        priority=event.priority,
        cron=request.schedule,
        timezone=request.timezone,
        start_dt=request.start_dt,
        next_run_at=first_run,
        user_ids=list(dict.fromkeys(request.payload.user or [])),
        content_ids=[str(movie.movie_id) for movie in event.content],
        audience=event.audience,
    )
    return DeferredEvent(event, schedule, recipients, skipped)


def replay(earlier: StoredEvent, fingerprint: str | None) -> EventAccepted:
    if earlier.request_hash != fingerprint:
        raise IdempotencyConflict("this Idempotency-Key was used with a different body")
    return answer(earlier)


def answer(stored: StoredEvent) -> EventAccepted:
    fan_out = stored.fan_out
    if fan_out is None and stored.status != "scheduled":
        # A list of users is fanned out at once, inside the request: done when answered (as GET shows).
        fan_out = FanOutView(recipients=stored.recipients, done=stored.recipients, complete=True)
    return EventAccepted(
        event_id=stored.event_id,
        status="scheduled" if stored.status == "scheduled" else "queued",
        recipients=stored.recipients,
        notifications=stored.notifications,
        skipped_users=stored.skipped_users,
        schedule_id=stored.schedule_id,
        next_run_at=stored.next_run_at,
        fan_out=fan_out,
    )
