"""Helpers of the integration tests: an in-process API Gateway (REST v1) client, data builders
and a look into the tables."""

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import psycopg
from aws_lambda_powertools.utilities.typing import LambdaContext
from psycopg import sql

from notify.adapters.postgres import PostgresStore
from notify.channels import EVENT_CHANNELS, Channel, EventType
from notify.delivery.models import NotificationMessage
from notify.delivery.ports import Outcome
from notify.entrypoints.http import handle
from notify.events.models import DirectoryMovie, DirectoryUser
from notify.events.ports import NewEvent, StoredEvent
from notify.outbox.ports import OutboundMessage
from notify_dev.contract import check_proxy_answer, proxy_headers
from tests.fakes import FakeLambdaContext

CONTEXT = cast(LambdaContext, FakeLambdaContext())


TABLES = ("events", "notifications", "outbox", "schedules", "directory_users", "directory_movies")

# The resource templates API Gateway would report for our routes.
_RESOURCES = (
    (re.compile(r"^/events/([^/]+)/notifications$"), "/events/{event_id}/notifications"),
    (re.compile(r"^/events/([^/]+)$"), "/events/{event_id}"),
)


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def rest_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event as Lambda receives it."""
    resource, path_parameters = path, None
    for pattern, template in _RESOURCES:
        match = pattern.match(path)
        if match:
            resource, path_parameters = template, {"event_id": match.group(1)}
            break
    all_headers = {"Host": "api.example.test", "User-Agent": "pytest", **(headers or {})}
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/test{path}",
            "stage": "test",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "testapi",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
            "requestTimeEpoch": int(datetime.now(UTC).timestamp() * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }


class ApiClient:
    """Calls the HTTP entry point in-process, the way API Gateway's proxy integration does, with
    `api_key` as its Authorization unless the request names one (an empty one: none is sent)."""

    api_key: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw_body: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        body = raw_body if raw_body is not None else None if json_body is None else json.dumps(json_body)
        sent = dict(headers or {})
        if self.api_key and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.api_key}"
        sent = {name: value for name, value in sent.items() if value}
        answer = handle(rest_event(method, path, body=body, headers=sent, query=query), CONTEXT)
        headers_out = proxy_headers(answer)
        # Every answer the suite gets is held against the document (the unit tests' client too).
        check_proxy_answer(method, path, answer)
        return ApiResponse(status=answer["statusCode"], headers=headers_out, text=answer["body"] or "")

    def get(self, path: str, query: Mapping[str, str] | None = None) -> ApiResponse:
        return self.request("GET", path, query=query)

    def post(self, path: str, json_body: Any, headers: Mapping[str, str] | None = None) -> ApiResponse:
        return self.request("POST", path, json_body=json_body, headers=headers)

    def put(self, path: str, json_body: Any) -> ApiResponse:
        return self.request("PUT", path, json_body=json_body)


# ---- data builders -----------------------------------------------------------------------------


def make_user(*, email: bool = True, phone: bool = True, push: bool = True, **fields: Any) -> DirectoryUser:
    user_id = fields.pop("user_id", None) or uuid.uuid4()
    tag = user_id.hex[:8]
    return DirectoryUser(
        user_id=user_id,
        first_name=fields.pop("first_name", f"User {tag}"),
        email=f"{tag}@example.test" if email else None,
        phone=f"+7900{int(tag, 16) % 10_000_000:07d}" if phone else None,
        push_token=f"push-{tag}" if push else None,
        **fields,
    )


def make_movie(title: str = "The Test", **fields: Any) -> DirectoryMovie:
    return DirectoryMovie(movie_id=uuid.uuid4(), title=title, **fields)


def event_body(
    users: Iterable[str | uuid.UUID],
    event_type: EventType | str = EventType.NEW_EPISODE,
    content: Iterable[str | uuid.UUID] = (),
    **fields: Any,
) -> dict[str, Any]:
    return {
        "event_type": str(event_type),
        "created_dt": "2025-03-01T12:00:00+00:00",
        **fields,
        "payload": {"user": [str(u) for u in users], "content": [str(c) for c in content]},
    }


def new_event(
    user_ids: Iterable[str | uuid.UUID],
    *,
    event_type: EventType = EventType.NEW_EPISODE,
    channels: Iterable[Channel] | None = None,
    chunk_size: int = 250,
    priority: int = 5,
    content: Iterable[DirectoryMovie] = (),
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> NewEvent:
    """A NewEvent as the ingest would build it, all channels on queue q-<channel>."""
    chosen = tuple(channels) if channels is not None else EVENT_CHANNELS[event_type]
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type=event_type,
        created_dt=datetime(2025, 3, 1, 12, tzinfo=UTC),
        priority=priority,
        user_ids=[str(u) for u in user_ids],
        content=list(content),
        channels=chosen,
        queue_by_channel={channel: f"q-{channel}" for channel in chosen},
        chunk_size=chunk_size,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )


# ---- looking into the database ---------------------------------------------------------------


def table_counts(dsn: str) -> dict[str, int]:
    counts = {}
    with psycopg.connect(dsn) as conn:
        for table in TABLES:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
            assert row is not None
            counts[table] = int(row[0])
    return counts


def notification_rows(dsn: str, event_id: uuid.UUID | str | None = None) -> set[tuple[Channel, uuid.UUID]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT channel, user_id FROM notifications WHERE %(e)s::uuid IS NULL OR event_id = %(e)s::uuid",
            {"e": str(event_id) if event_id else None},
        ).fetchall()
    return {(Channel(channel), user_id) for channel, user_id in rows}


def outbox_rows(dsn: str) -> dict[uuid.UUID, tuple[str, str, datetime | None]]:
    """message_id -> (queue, body, published_at)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT message_id, queue, body, published_at FROM outbox").fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def parse(messages: Iterable[OutboundMessage]) -> list[NotificationMessage]:
    return [NotificationMessage.model_validate_json(message.body) for message in messages]


def message_rows(messages: Iterable[NotificationMessage]) -> list[tuple[Channel, uuid.UUID]]:
    """(channel, user) for every recipient of every message, duplicates kept."""
    return [(m.transport_type, user.user_id) for m in messages for user in m.payload.user]


# ---- the delivery ledger, as one attempt uses it ------------------------------------------------


def claim_as(
    store: Any,
    event_id: uuid.UUID,
    channel: Channel,
    user_ids: list[uuid.UUID],
    now: datetime,
    lease_s: float = 60,
) -> tuple[uuid.UUID, set[uuid.UUID]]:
    """Claim as a new attempt would: (its token, the users it got)."""
    token = uuid.uuid4()
    claimed = store.claim(
        event_id, channel, user_ids, token=token, now=now, until=now + timedelta(seconds=lease_s)
    )
    return token, claimed


def record_as(
    store: Any,
    event_id: uuid.UUID,
    channel: Channel,
    token: uuid.UUID,
    user_ids: list[uuid.UUID],
    status: str,
    now: datetime,
    reason: str | None = None,
    error: str | None = None,
    provider_id: str | None = None,
) -> set[uuid.UUID]:
    """The same outcome for each of `user_ids`, written by the attempt holding `token`."""
    outcomes = [Outcome(user_id, status, now, reason, error, provider_id) for user_id in user_ids]
    written: set[uuid.UUID] = store.record_outcomes(event_id, channel, token, outcomes)
    return written


def stored_event(store: PostgresStore, users: list[DirectoryUser], **kwargs: Any) -> StoredEvent:
    """Store `users` and create an event for all of them (kwargs go to new_event)."""
    store.upsert_users(users)
    return store.create_event(new_event([u.user_id for u in users], **kwargs))


def ledger_row(dsn: str, event_id: uuid.UUID, channel: Channel, user_id: uuid.UUID) -> dict[str, object]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT status, reason, attempts, error, sent_at, provider_message_id, claim_token, claimed_until"
            " FROM notifications "
            "WHERE event_id = %s AND channel = %s AND user_id = %s",
            (event_id, str(channel), user_id),
        ).fetchone()
    assert row is not None
    return dict(
        zip(
            (
                "status",
                "reason",
                "attempts",
                "error",
                "sent_at",
                "provider_message_id",
                "claim_token",
                "until",
            ),
            row,
            strict=True,
        )
    )


def run_at_once[T](workers: int, task: Callable[[int], T]) -> list[T]:
    """Run task(0..workers-1) in threads released together by a barrier; re-raise their errors."""
    barrier = threading.Barrier(workers)
    results: list[T | None] = [None] * workers
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = task(index)
        except BaseException as error:  # noqa: BLE001 - handed back to the test thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return [result for result in results if result is not None]


def drain(amqp: Any, queue: str) -> list[tuple[Any, bytes]]:
    """Take (and ack) every message waiting in a RabbitMQ `queue`: [(properties, body)] in queue order."""
    taken: list[tuple[Any, bytes]] = []
    while True:
        method, properties, body = amqp.basic_get(queue, auto_ack=True)
        if method is None:
            return taken
        taken.append((properties, body))


def bodies(amqp: Any, queue: str) -> list[bytes]:
    """The bodies `drain` takes."""
    return [body for _, body in drain(amqp, queue)]
