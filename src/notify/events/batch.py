"""Accepting a batch of events (POST /events/batch): each event validated and answered on its own,
as POST /events would have, and the lot stored set-wise and published together.

An event's `idempotency_key` is the Idempotency-Key header's namespace: an event posted again with its
key (alone or in a batch, in this batch or a later one) answers as the first time and is stored once.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from notify.errors import DuplicateIdempotencyKey, FieldProblem, InvalidInput
from notify.events.ingest import (
    IN_FLIGHT,
    IngestPolicy,
    IngestPorts,
    Lookups,
    answer,
    is_deferred,
    prepare_event,
    request_fingerprint,
    store_event,
)
from notify.events.models import BatchAccepted, BatchEvent, BatchResult, EventRequest
from notify.events.ports import NewEvent, StoredEvent
from notify.models import ErrorList, field_problems
from notify.outbox import publish_after_commit

_KEY_FIELD = "idempotency_key"


@dataclass(frozen=True)
class _Item:
    index: int
    request: EventRequest
    key: str | None
    fingerprint: str | None


def accept_events(
    items: Sequence[Any],
    *,
    now: datetime,
    ports: IngestPorts,
    policy: IngestPolicy,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> BatchAccepted:
    """A result per item, in order: 202 and what POST /events answers, 409 (its key was used with
    another body, or its first use is still in flight) or 422 (what is wrong with it). The events of
    user lists are stored in one transaction; a deferred event or one to an audience in one of its own.
    An audience's fan-out is left to the tick's steps (POST /events takes its first steps itself)."""
    results: dict[int, BatchResult] = {}
    valid: list[_Item] = []
    for index, raw in enumerate(items):
        try:
            valid.append(_parse(index, raw))
        except ValidationError as error:
            results[index] = _refused(422, index, field_problems(error.errors(include_url=False)))

    firsts, repeats = _first_uses(valid)
    store = ports.events
    earlier = store.find_by_idempotency_keys([item.key for item in firsts if item.key])
    fresh: list[_Item] = []
    for item in firsts:
        if item.key in earlier:
            results[item.index] = _replayed(item, earlier[item.key])
        else:
            fresh.append(item)

    lookups = Lookups(ports, [raw for item in fresh for raw in _movie_ids(item.request)])
    events: list[tuple[_Item, NewEvent]] = []
    for item in fresh:
        try:
            event = prepare_event(
                item.request,
                lookups=lookups,
                policy=policy,
                idempotency_key=item.key,
                fingerprint=item.fingerprint,
                new_id=new_id,
            )
        except InvalidInput as error:
            results[item.index] = _refused(422, item.index, error.problems)
        else:
            events.append((item, event))

    stored = _store(events, now=now, ports=ports, new_id=new_id)
    taken = [item for item, _ in events if stored.get(item.index) is None]
    raced = store.find_by_idempotency_keys([item.key for item in taken if item.key])
    for item, _ in events:
        if item.index in stored:
            results[item.index] = BatchResult(status=202, body=answer(stored[item.index]))
        elif item.key in raced:
            results[item.index] = _replayed(item, raced[item.key])
        else:  # the key's first use has not committed yet
            results[item.index] = _refused(409, item.index, [FieldProblem((_KEY_FIELD,), IN_FLIGHT)])

    # Committed: accepted whatever publishing does now (the outbox relay delivers what is left).
    outbox = [message for event in stored.values() for message in event.outbox]
    if outbox:
        publish_after_commit(outbox, publisher=ports.publisher, outbox=ports.outbox, now=now)
    for item, first in repeats:
        results[item.index] = _as_repeat(item, first, results[first.index])
    return BatchAccepted(results=[results[index] for index in range(len(items))])


def _parse(index: int, raw: Any) -> _Item:
    event = BatchEvent.model_validate(raw)
    # Fingerprinted as POST /events' body: the key's namespace is shared with the header's.
    request = EventRequest.model_validate({name: value for name, value in raw.items() if name != _KEY_FIELD})
    key = event.idempotency_key
    return _Item(index, request, key, request_fingerprint(request) if key else None)


def _first_uses(items: list[_Item]) -> tuple[list[_Item], list[tuple[_Item, _Item]]]:
    """The items whose key is new to the batch, and (item, the first with its key) for the others."""
    firsts: list[_Item] = []
    repeats: list[tuple[_Item, _Item]] = []
    first_with: dict[str, _Item] = {}
    for item in items:
        if item.key is not None and item.key in first_with:
            repeats.append((item, first_with[item.key]))
            continue
        if item.key is not None:
            first_with[item.key] = item
        firsts.append(item)
    return firsts, repeats


def _movie_ids(request: EventRequest) -> list[str]:
    return [str(uuid.UUID(raw)) for raw in request.payload.content]


def _store(
    events: list[tuple[_Item, NewEvent]],
    *,
    now: datetime,
    ports: IngestPorts,
    new_id: Callable[[], uuid.UUID],
) -> dict[int, StoredEvent]:
    """Store the events: item index → what was stored (absent: its key was taken meanwhile)."""
    store, stored = ports.events, {}
    listed = [(item, event) for item, event in events if _made_at_once(item.request, event, now)]
    made = store.create_events([event for _, event in listed])
    for (item, _), result in zip(listed, made, strict=True):
        if result is not None:
            stored[item.index] = result
    for item, event in events:
        if _made_at_once(item.request, event, now):
            continue
        try:
            stored[item.index] = store_event(item.request, event, now=now, store=store, new_id=new_id)
        except DuplicateIdempotencyKey:
            continue
    return stored


def _made_at_once(request: EventRequest, event: NewEvent, now: datetime) -> bool:
    """An event to a list of users, due now: its rows and messages are made with it."""
    return event.audience is None and not is_deferred(request, now)


def _replayed(item: _Item, earlier: StoredEvent) -> BatchResult:
    if earlier.request_hash != item.fingerprint:
        conflict = "this idempotency_key was used with a different event"
        return _refused(409, item.index, [FieldProblem((_KEY_FIELD,), conflict)])
    return BatchResult(status=202, body=answer(earlier))


def _as_repeat(item: _Item, first: _Item, result: BatchResult) -> BatchResult:
    """An event whose key an earlier event of the batch used: answered as that one was, if it is the
    same event (a 422 naming this event's place), else 409."""
    if item.fingerprint != first.fingerprint:
        conflict = f"this idempotency_key was used with a different event (events[{first.index}])"
        return _refused(409, item.index, [FieldProblem((_KEY_FIELD,), conflict)])
    if result.status == 202 or not isinstance(result.body, ErrorList):
        return result
    problems = [FieldProblem(tuple(error.loc[3:]), error.msg) for error in result.body.errors]
    return _refused(result.status, item.index, problems)


def _refused(status: Literal[409, 422], index: int, problems: Sequence[FieldProblem]) -> BatchResult:
    """The problems of the batch's event `index`, each named from the request's body."""
    located = [
        FieldProblem(("body", "events", index, *_within_event(problem.loc)), problem.msg)
        for problem in problems
    ]
    return BatchResult(status=status, body=ErrorList.of(located))


def _within_event(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Where in the event a problem is: POST /events names it from the body."""
    return loc[1:] if loc[:1] == ("body",) else loc
