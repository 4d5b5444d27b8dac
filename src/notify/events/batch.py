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

from notify.errors import FieldProblem, InvalidInput
from notify.events.ingest import (
    IN_FLIGHT,
    IngestPolicy,
    IngestPorts,
    Lookups,
    answer,
    deferred_event,
    fan_out_inline,
    is_deferred,
    prepare_event,
    request_fingerprint,
)
from notify.events.models import BatchAccepted, BatchEvent, BatchResult, EventRequest
from notify.events.ports import DeferredEvent, NewEvent, StoredEvent
from notify.models import ErrorList, field_problems
from notify.outbox import publish_after_commit
from notify.text import storable_problem, strings_in

_KEY_FIELD = "idempotency_key"
_KEY_LOC = ("body", _KEY_FIELD)


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
    time_left: Callable[[], float] = lambda: 0.0,
) -> BatchAccepted:
    """A result per item, in order: 202 and what POST /events answers, 409 (its key was used with
    another body, or its first use is still in flight) or 422 (what is wrong with it). Every event is
    checked (and a deferred one's schedule made) before anything is stored; then all are stored in one
    transaction, their messages published together, and the audiences' fan-outs stepped for what is
    left of `policy.fan_out_inline_s`, shared by the batch."""
    results: dict[int, BatchResult] = {}
    valid: list[_Item] = []
    for index, raw in enumerate(items):
        try:
            valid.append(_parse(index, raw))
        except InvalidInput as error:
            results[index] = _refused(422, index, error.problems)

    firsts, repeats = _first_uses(valid)
    store = ports.events
    earlier = store.find_by_idempotency_keys([item.key for item in firsts if item.key])
    fresh: list[_Item] = []
    for item in firsts:
        if item.key in earlier:
            results[item.index] = _replayed(item, earlier[item.key])
        else:
            fresh.append(item)

    prepared = _prepare(fresh, now=now, ports=ports, policy=policy, new_id=new_id, refused=results)
    made = store.create_events([event for _, event in prepared])
    stored = {item.index: event for (item, _), event in zip(prepared, made, strict=True) if event is not None}
    taken = [item for item, _ in prepared if item.index not in stored]
    raced = store.find_by_idempotency_keys([item.key for item in taken if item.key])

    # Committed: accepted whatever publishing does now (the outbox relay delivers what is left).
    outbox = [message for event in stored.values() for message in event.outbox]
    if outbox:
        publish_after_commit(outbox, publisher=ports.publisher, outbox=ports.outbox, now=now)
    stored = _fan_out_audiences(stored, now=now, ports=ports, policy=policy, time_left=time_left)
    for item, _ in prepared:
        if item.index in stored:
            results[item.index] = BatchResult(status=202, body=answer(stored[item.index]))
        elif item.key in raced:
            results[item.index] = _replayed(item, raced[item.key])
        else:  # the key's first use has not committed yet
            results[item.index] = _refused(409, item.index, [FieldProblem(_KEY_LOC, IN_FLIGHT)])
    for item, first in repeats:
        results[item.index] = _as_repeat(item, first, results[first.index])
    return BatchAccepted(results=[results[index] for index in range(len(items))])


def _parse(index: int, raw: Any) -> _Item:
    """The item as POST /events' body and its key; InvalidInput naming fields as POST /events does."""
    problems = [
        FieldProblem(loc, problem)
        for loc, text in strings_in(raw, ("body",))
        if (problem := storable_problem(text)) is not None
    ]
    if problems:
        raise InvalidInput(problems)
    try:
        event = BatchEvent.model_validate(raw)
        # Fingerprinted as POST /events' body: the key's namespace is shared with the header's.
        request = EventRequest.model_validate(
            {name: value for name, value in raw.items() if name != _KEY_FIELD}
        )
    except ValidationError as error:
        raise InvalidInput(field_problems(error.errors(include_url=False), ("body",))) from error
    key = event.idempotency_key
    return _Item(index, request, key, request_fingerprint(request) if key else None)


def _prepare(
    items: list[_Item],
    *,
    now: datetime,
    ports: IngestPorts,
    policy: IngestPolicy,
    new_id: Callable[[], uuid.UUID],
    refused: dict[int, BatchResult],
) -> list[tuple[_Item, NewEvent | DeferredEvent]]:
    """Each item's event, checked (workflow, directory, audience, schedule); a refused one's 422 goes
    into `refused`. Nothing is stored yet."""
    lookups = Lookups(ports, [raw for item in items for raw in _movie_ids(item.request)])
    prepared: list[tuple[_Item, NewEvent | DeferredEvent]] = []
    for item in items:
        try:
            event = prepare_event(
                item.request,
                lookups=lookups,
                policy=policy,
                idempotency_key=item.key,
                fingerprint=item.fingerprint,
                new_id=new_id,
            )
            made: NewEvent | DeferredEvent = event
            if is_deferred(item.request, now):
                made = deferred_event(item.request, event, now=now, store=ports.events, new_id=new_id)
        except InvalidInput as error:
            refused[item.index] = _refused(422, item.index, error.problems)
        else:
            prepared.append((item, made))
    return prepared


def _fan_out_audiences(
    stored: dict[int, StoredEvent],
    *,
    now: datetime,
    ports: IngestPorts,
    policy: IngestPolicy,
    time_left: Callable[[], float],
) -> dict[int, StoredEvent]:
    """The first steps of the audiences' fan-outs, as POST /events takes them, in one budget for all."""
    spent_at = time_left() - min(time_left(), policy.fan_out_inline_s)  # the time left once it is spent

    def budget() -> float:
        return max(0.0, time_left() - spent_at)

    stepped = dict(stored)
    for index, event in stored.items():
        if (
            event.fan_out is not None
            and event.status == "queued"
            and ports.fan_outs is not None
            and budget() > 0
        ):
            stepped[index] = fan_out_inline(event, now=now, ports=ports, policy=policy, time_left=budget)
    return stepped


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


def _replayed(item: _Item, earlier: StoredEvent) -> BatchResult:
    if earlier.request_hash != item.fingerprint:
        conflict = "this idempotency_key was used with a different event"
        return _refused(409, item.index, [FieldProblem(_KEY_LOC, conflict)])
    return BatchResult(status=202, body=answer(earlier))


def _as_repeat(item: _Item, first: _Item, result: BatchResult) -> BatchResult:
    """An event whose key an earlier event of the batch used: answered as that one was, if it is the
    same event (a 422 naming this event's place), else 409."""
    if item.fingerprint != first.fingerprint:
        conflict = f"this idempotency_key was used with a different event (events[{first.index}])"
        return _refused(409, item.index, [FieldProblem(_KEY_LOC, conflict)])
    if result.status == 202 or not isinstance(result.body, ErrorList):
        return result
    problems = [FieldProblem(("body", *error.loc[3:]), error.msg) for error in result.body.errors]
    return _refused(result.status, item.index, problems)


def _refused(status: Literal[409, 422], index: int, problems: Sequence[FieldProblem]) -> BatchResult:
    """The problems of the batch's event `index`, named as POST /events names them (from its body:
    `["body", "payload", …]`), moved to where the event is in the batch's body."""
    located = [FieldProblem(("body", "events", index, *problem.loc[1:]), problem.msg) for problem in problems]
    return BatchResult(status=status, body=ErrorList.of(located))
