"""RabbitMQ against the real broker: the confirming publisher, the worker's tiers, retries and DLQ,
and one event end to end through PostgreSQL, RabbitMQ and the real delivery path."""

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pika
import pika.exceptions
import psycopg
import pytest

from notify import bootstrap
from notify.adapters.postgres import PostgresStore
from notify.adapters.rabbitmq.consumer import RabbitConsumer
from notify.adapters.rabbitmq.publisher import RabbitPublisher
from notify.adapters.rabbitmq.topology import DELAY_STEPS_S, delay_queue
from notify.backoff import retry_delay_s
from notify.channels import (
    DEAD_LETTER_SUFFIX,
    Channel,
    EventType,
    QueueRouter,
    Tier,
    all_queue_names,
    queue_name,
)
from notify.delivery.dispatch import TimeLeft
from notify.delivery.models import MessagePayload, NotificationMessage, Recipient
from notify.entrypoints.queue import deliver_body
from notify.errors import BrokerUnavailable, RetryableError
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryMovie, DirectoryUser, EventRequest
from notify.outbox.ports import OutboundMessage, PublishOutcome, Refused
from notify.settings import Settings
from notify.tick import run_tick
from notify_dev.scratch import RABBITMQ_URL
from tests.fakes import FakeSender
from tests.integration.support import drain
from tests.unit.builders import tick_policy

pytestmark = pytest.mark.integration

DEAD_BROKER_URL = "amqp://guest:guest@127.0.0.1:1/%2F"


# ---- helpers -----------------------------------------------------------------------------------


def ready(amqp: Any, queue: str) -> int:
    return int(amqp.queue_declare(queue, passive=True).method.message_count)


def delays(queue: str) -> list[str]:
    """The queue's delay queues, one per backoff step."""
    return [delay_queue(queue, step) for step in DELAY_STEPS_S]


def waiting_in_delays(amqp: Any, queue: str) -> int:
    return sum(ready(amqp, name) for name in delays(queue))


def message(queue: str, body: bytes | None = None) -> OutboundMessage:
    message_id = uuid.uuid4()
    return OutboundMessage(
        message_id, queue, body if body is not None else f'{{"n": "{message_id}"}}'.encode()
    )


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class RecordingDeliver:
    """Stands in for deliver_body: records each call, raises the queued errors first."""

    def __init__(self, *errors: Exception, always: Exception | None = None) -> None:
        self.calls: list[tuple[bytes, Channel, int]] = []
        self._errors = list(errors)
        self._always = always

    def __call__(self, body: bytes, *, channel: Channel, attempt: int, time_left: TimeLeft) -> None:
        assert 0 < time_left() <= 30  # the worker's budget for one message
        self.calls.append((body, channel, attempt))
        if self._always is not None:
            raise self._always
        if self._errors:
            raise self._errors.pop(0)


@pytest.fixture
def make_worker(queue_prefix: str) -> Iterator[Callable[..., RabbitConsumer]]:
    workers: list[RabbitConsumer] = []

    def build(deliver: Any, **options: Any) -> RabbitConsumer:
        defaults: dict[str, Any] = {
            "channels": tuple(Channel),
            "max_attempts": 5,
            "retry_delay_s": retry_delay_s,
            "message_budget_s": 30.0,
        }
        worker = RabbitConsumer(
            RABBITMQ_URL, deliver=deliver, router=QueueRouter(queue_prefix), **(defaults | options)
        )
        workers.append(worker)
        return worker

    yield build
    for worker in workers:
        worker.close()


@pytest.fixture
def publisher(queue_prefix: str) -> Iterator[RabbitPublisher]:
    publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(queue_prefix), confirm_timeout_s=10)
    yield publisher
    publisher.close()


def take_until(worker: RabbitConsumer, condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Drive the worker in this thread until `condition` holds (retries come back after their TTL)."""

    def step() -> bool:
        worker.take_one()
        return condition()

    wait_for(step, timeout_s)


# ---- RabbitPublisher ---------------------------------------------------------------------------


def test_publisher_puts_every_message_persistent_into_its_durable_queue(
    publisher: RabbitPublisher, queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.EMAIL, Tier.NORMAL, queue_prefix)
    messages = [message(queue) for _ in range(300)]

    publisher.publish(messages)

    taken = drain(amqp, queue)
    assert [body for _, body in taken] == [m.body for m in messages]
    assert [props.message_id for props, _ in taken] == [str(m.message_id) for m in messages]
    assert {props.delivery_mode for props, _ in taken} == {pika.DeliveryMode.Persistent.value}
    assert {props.content_type for props, _ in taken} == {"application/json"}
    # The queue is durable: declaring it as transient is refused by the broker.
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        amqp.queue_declare(queue, durable=False)
    assert refused.value.reply_code == 406


def test_publisher_routes_each_message_to_its_own_queue(
    publisher: RabbitPublisher, queue_prefix: str, amqp: Any
) -> None:
    email = queue_name(Channel.EMAIL, Tier.HIGH, queue_prefix)
    sms = queue_name(Channel.SMS, Tier.LOW, queue_prefix)
    first, second, third = message(email), message(sms), message(email)

    publisher.publish([first, second, third])

    assert [body for _, body in drain(amqp, email)] == [first.body, third.body]
    assert [body for _, body in drain(amqp, sms)] == [second.body]


def test_publisher_raises_broker_unavailable_when_broker_is_down(queue_prefix: str) -> None:
    publisher = RabbitPublisher(DEAD_BROKER_URL, all_queue_names(queue_prefix), confirm_timeout_s=5)
    queue = queue_name(Channel.EMAIL, Tier.NORMAL, queue_prefix)

    with pytest.raises(BrokerUnavailable):
        publisher.publish([message(queue)])
    with pytest.raises(BrokerUnavailable):
        publisher.check()


def test_publisher_reconnects_when_its_connection_was_closed(
    publisher: RabbitPublisher, queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.PUSH, Tier.NORMAL, queue_prefix)
    before = message(queue)
    publisher.publish([before])
    session = publisher._session
    assert session is not None
    session._connection.close()  # closed under the publisher, which is not told

    after = message(queue)
    publisher.publish([after])

    assert publisher._session is not session
    assert [body for _, body in drain(amqp, queue)] == [before.body, after.body]


def test_publisher_reconnects_when_the_broker_dropped_an_idle_connection(
    publisher: RabbitPublisher, queue_prefix: str, amqp: Any
) -> None:
    """A connection lost while idle (broker restart, missed heartbeats) is noticed only on the
    next publish; that publish must still go out, on a new connection."""
    queue = queue_name(Channel.SMS, Tier.HIGH, queue_prefix)
    before = message(queue)
    publisher.publish([before])
    session = publisher._session
    assert session is not None
    session._connection._transport._sock.shutdown(socket.SHUT_RDWR)

    after = message(queue)
    publisher.publish([after])

    assert publisher._session is not session
    assert [body for _, body in drain(amqp, queue)] == [before.body, after.body]


def test_publisher_reports_a_returned_message_refused_and_publishes_the_others(
    publisher: RabbitPublisher, queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.EMAIL, Tier.HIGH, queue_prefix)
    before, nowhere, after = message(queue), message(f"{queue_prefix}-no-such-queue"), message(queue)

    outcome = publisher.publish([before, nowhere, after])

    assert outcome == PublishOutcome(
        published=[before.message_id, after.message_id],
        refused=[Refused(nowhere.message_id, "rabbitmq: returned 312 NO_ROUTE")],
    )
    assert [body for _, body in drain(amqp, queue)] == [before.body, after.body]
    # The channel stays usable: the next publish goes out on the same session.
    session = publisher._session
    publisher.publish([message(queue)])
    assert publisher._session is session


def test_publisher_refuses_a_message_over_its_limit_without_sending_it(queue_prefix: str, amqp: Any) -> None:
    publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(queue_prefix), max_message_bytes=1_000)
    queue = queue_name(Channel.SMS, Tier.NORMAL, queue_prefix)
    small, large = message(queue), message(queue, b"x" * 1_001)
    try:
        outcome = publisher.publish([large, small])
    finally:
        publisher.close()

    assert outcome == PublishOutcome(
        published=[small.message_id], refused=[Refused(large.message_id, "rabbitmq: larger than 1000 bytes")]
    )
    assert [body for _, body in drain(amqp, queue)] == [small.body]


def test_relay_on_rabbitmq_parks_an_unroutable_message_and_relays_the_ones_behind_it(
    publisher: RabbitPublisher, store: PostgresStore, pg_dsn: str, queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.PUSH, Tier.LOW, queue_prefix)
    created = datetime.now(UTC) - timedelta(minutes=5)
    unroutable = uuid.uuid4()
    behind = [uuid.uuid4() for _ in range(3)]
    with psycopg.connect(pg_dsn) as conn:
        for n, (message_id, target) in enumerate(
            [(unroutable, f"{queue_prefix}-gone"), *((m, queue) for m in behind)]
        ):
            conn.execute(
                "INSERT INTO outbox (message_id, queue, body, created_at) VALUES (%s, %s, %s, %s)",
                (message_id, target, f'{{"n": {n}}}', created + timedelta(seconds=n)),
            )
    now = datetime.now(UTC)

    report = run_tick(
        now=now,
        schedules=store,
        waiting=store,
        outbox=store,
        publisher=publisher,
        policy=tick_policy(outbox_grace_s=30),
    )

    assert (report.republished, report.parked) == (3, 1)
    assert sorted(props.message_id for props, _ in drain(amqp, queue)) == sorted(map(str, behind))
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT message_id, published_at, parked_at, error FROM outbox").fetchall()
    assert {row[0]: (row[1], row[2], row[3]) for row in rows} == {
        unroutable: (None, now, "rabbitmq: returned 312 NO_ROUTE"),
        **{message_id: (now, None, None) for message_id in behind},
    }


# ---- RabbitConsumer: tiers ------------------------------------------------------------------------


def test_worker_takes_high_before_normal_before_low(
    publisher: RabbitPublisher, make_worker: Callable[..., RabbitConsumer], queue_prefix: str
) -> None:
    low = message(queue_name(Channel.EMAIL, Tier.LOW, queue_prefix))
    normal = message(queue_name(Channel.SMS, Tier.NORMAL, queue_prefix))
    high = message(queue_name(Channel.PUSH, Tier.HIGH, queue_prefix))
    publisher.publish([low, normal, high])
    deliver = RecordingDeliver()
    worker = make_worker(deliver)

    taken = [worker.take_one() for _ in range(4)]

    assert taken == [True, True, True, False]
    assert deliver.calls == [
        (high.body, Channel.PUSH, 1),
        (normal.body, Channel.SMS, 1),
        (low.body, Channel.EMAIL, 1),
    ]


# ---- RabbitConsumer: retries and dead letters -----------------------------------------------------


def test_worker_parks_retryable_failure_in_the_delay_queue_of_its_step_with_its_attempt(
    publisher: RabbitPublisher, make_worker: Callable[..., RabbitConsumer], queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.EMAIL, Tier.NORMAL, queue_prefix)
    original = message(queue)
    publisher.publish([original])
    worker = make_worker(RecordingDeliver(RetryableError("provider throttled")), retry_delay_s=lambda a: 30)

    assert worker.take_one() is True
    worker.close()  # an unacked original would go back to its queue here

    parked = drain(amqp, delay_queue(queue, 40))  # 30 s, rounded up to the step of 40 s
    assert len(parked) == 1
    properties, body = parked[0]
    assert body == original.body
    assert properties.message_id == str(original.message_id)
    assert properties.headers["x-attempt"] == 2
    assert properties.expiration is None  # the queue's TTL decides, never the message's
    assert properties.delivery_mode == pika.DeliveryMode.Persistent.value
    assert ready(amqp, queue) == 0
    assert ready(amqp, queue + DEAD_LETTER_SUFFIX) == 0


def test_worker_delivers_a_retried_message_after_its_delay(
    publisher: RabbitPublisher, make_worker: Callable[..., RabbitConsumer], queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.SMS, Tier.LOW, queue_prefix)
    original = message(queue)
    publisher.publish([original])
    deliver = RecordingDeliver(RetryableError("provider throttled"))
    worker = make_worker(deliver, retry_delay_s=lambda a: 0.05)

    take_until(worker, lambda: len(deliver.calls) == 2)
    worker.close()

    assert deliver.calls == [(original.body, Channel.SMS, 1), (original.body, Channel.SMS, 2)]
    for name in (queue, *delays(queue), queue + DEAD_LETTER_SUFFIX):
        assert ready(amqp, name) == 0, name


def test_worker_dead_letters_after_max_attempts(
    publisher: RabbitPublisher, make_worker: Callable[..., RabbitConsumer], queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.PUSH, Tier.HIGH, queue_prefix)
    original = message(queue)
    publisher.publish([original])
    deliver = RecordingDeliver(always=RetryableError("provider down"))
    worker = make_worker(deliver, max_attempts=3, retry_delay_s=lambda a: 0.05)

    take_until(worker, lambda: ready(amqp, queue + DEAD_LETTER_SUFFIX) == 1)
    time.sleep(1.2)  # would a fourth attempt come back from the delay queue (1 s)?
    assert worker.take_one() is False
    worker.close()

    assert [attempt for _, _, attempt in deliver.calls] == [1, 2, 3]
    dead = drain(amqp, queue + DEAD_LETTER_SUFFIX)
    assert [body for _, body in dead] == [original.body]
    assert dead[0][0].message_id == str(original.message_id)
    assert dead[0][0].expiration is None
    assert ready(amqp, queue) == 0
    assert waiting_in_delays(amqp, queue) == 0


def test_worker_dead_letters_a_permanent_error_at_once(
    publisher: RabbitPublisher, make_worker: Callable[..., RabbitConsumer], queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.EMAIL, Tier.HIGH, queue_prefix)
    malformed = message(queue, b'{"schema_version": 1, "this is": "not a notification"}')
    publisher.publish([malformed])
    calls: list[int] = []

    def deliver(body: bytes, *, channel: Channel, attempt: int, time_left: TimeLeft) -> object:
        calls.append(attempt)
        return deliver_body(body, channel=channel, attempt=attempt, time_left=time_left)  # PermanentError

    worker = make_worker(deliver, retry_delay_s=lambda a: 0.05)

    assert worker.take_one() is True
    time.sleep(0.2)
    assert worker.take_one() is False
    worker.close()

    assert calls == [1]
    dead = drain(amqp, queue + DEAD_LETTER_SUFFIX)
    assert [body for _, body in dead] == [malformed.body]
    assert ready(amqp, queue) == 0
    assert waiting_in_delays(amqp, queue) == 0


def test_worker_retries_an_unexpected_exception_like_a_retryable_one(
    publisher: RabbitPublisher, make_worker: Callable[..., RabbitConsumer], queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.EMAIL, Tier.LOW, queue_prefix)
    original = message(queue)
    publisher.publish([original])
    deliver = RecordingDeliver(KeyError("bug"))
    worker = make_worker(deliver, retry_delay_s=lambda a: 0.05)

    take_until(worker, lambda: len(deliver.calls) == 2)
    worker.close()

    assert [attempt for _, _, attempt in deliver.calls] == [1, 2]
    for name in (queue, *delays(queue), queue + DEAD_LETTER_SUFFIX):
        assert ready(amqp, name) == 0, name


def test_worker_dead_letters_a_message_on_the_wrong_channel_queue(
    publisher: RabbitPublisher, make_worker: Callable[..., RabbitConsumer], queue_prefix: str, amqp: Any
) -> None:
    queue = queue_name(Channel.SMS, Tier.NORMAL, queue_prefix)
    push_message = NotificationMessage(
        message_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        event_type=EventType.NEW_EPISODE,
        created_dt=datetime.now(UTC),
        transport_type=Channel.PUSH,
        priority=5,
        payload=MessagePayload(user=[Recipient(user_id=uuid.uuid4(), push_token="t")], content=[]),
    )
    wrong = message(queue, push_message.model_dump_json().encode())
    publisher.publish([wrong])
    worker = make_worker(deliver_body)  # refuses before it touches any service

    assert worker.take_one() is True
    worker.close()

    assert [body for _, body in drain(amqp, queue + DEAD_LETTER_SUFFIX)] == [wrong.body]
    assert waiting_in_delays(amqp, queue) == 0
    assert ready(amqp, queue) == 0


# ---- The real path end to end ------------------------------------------------------------------

TITLE = "The Lighthouse Keepers"


@pytest.fixture
def installed(
    pg_dsn: str, store: PostgresStore, queue_prefix: str
) -> Iterator[tuple[bootstrap.Services, dict[Channel, FakeSender]]]:
    settings = Settings(
        database_url=pg_dsn, broker="rabbitmq", rabbitmq_url=RABBITMQ_URL, queue_prefix=queue_prefix
    )
    svc = bootstrap.Services(settings)
    svc.use_store(store)
    publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(queue_prefix))
    svc.publisher = publisher
    senders = {channel: FakeSender() for channel in Channel}
    svc._senders = dict(senders)
    bootstrap.install(svc)
    try:
        yield svc, senders
    finally:
        bootstrap.install(None)
        publisher.close()


def test_event_is_delivered_end_to_end_once_per_recipient_and_channel(
    installed: tuple[bootstrap.Services, dict[Channel, FakeSender]],
    store: PostgresStore,
    pg_dsn: str,
    make_worker: Callable[..., RabbitConsumer],
    queue_prefix: str,
    amqp: Any,
) -> None:
    svc, senders = installed
    movie = DirectoryMovie(movie_id=uuid.uuid4(), title=TITLE, season=2, episode=5)
    users = [
        DirectoryUser(
            user_id=uuid.uuid4(),
            first_name=f"User{n}",
            email=f"user{n}@example.com" if n % 4 != 3 else None,
            phone=f"+4915100000{n:03d}" if n % 2 == 0 else None,
            push_token=f"token-{n}" if n % 3 == 0 else None,
            locale="ru" if n % 5 == 0 else "en",
        )
        for n in range(12)
    ]
    store.upsert_users(users)
    store.upsert_movies([movie])
    unknown = str(uuid.uuid4())
    request = EventRequest.model_validate(
        {
            "event_type": EventType.NEW_EPISODE,
            # Now, not a fixed date: the send path expires notifications older than 48 hours.
            "created_dt": datetime.now(UTC).isoformat(),
            "priority": 8,
            "payload": {
                "user": [str(u.user_id) for u in users] + [unknown],
                "content": [str(movie.movie_id)],
            },
        }
    )

    accepted = accept_event(
        request,
        now=datetime.now(UTC),
        ports=IngestPorts(events=store, directory=store, outbox=store, publisher=svc.publisher),
        policy=IngestPolicy(router=QueueRouter(queue_prefix), chunk_size=2),
    )
    worker = make_worker(deliver_body)
    handled = 0
    while worker.take_one():
        handled += 1

    expected = {
        Channel.EMAIL: sorted(u.email for u in users if u.email),
        Channel.SMS: sorted(u.phone for u in users if u.phone),
        Channel.PUSH: sorted(u.push_token for u in users if u.push_token),
    }
    total = sum(len(addresses) for addresses in expected.values())
    assert accepted.notifications == total
    assert accepted.skipped_users == [unknown]
    assert handled == sum((len(addresses) + 1) // 2 for addresses in expected.values())
    for channel, sender in senders.items():
        assert sorted(address for address, _ in sender.sent) == expected[channel], channel
        assert all(TITLE in rendered.text for _, rendered in sender.sent), channel
    with psycopg.connect(pg_dsn) as conn:
        statuses = conn.execute(
            "SELECT status, count(*) FROM notifications WHERE event_id = %s GROUP BY status",
            (accepted.event_id,),
        ).fetchall()
        unpublished = conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()
        stored = conn.execute("SELECT message_id, queue, body FROM outbox").fetchall()
    assert dict(statuses) == {"sent": total}
    assert unpublished == (0,)
    for name in all_queue_names(queue_prefix):
        assert ready(amqp, name) == 0, name

    # The same messages once more (a duplicate publish): nobody hears twice.
    svc.publisher.publish([OutboundMessage(row[0], row[1], row[2].encode()) for row in stored])
    redelivered = 0
    while worker.take_one():
        redelivered += 1

    assert redelivered == handled
    for channel, sender in senders.items():
        assert len(sender.sent) == len(expected[channel]), channel
    with psycopg.connect(pg_dsn) as conn:
        after = conn.execute(
            "SELECT status, count(*) FROM notifications WHERE event_id = %s GROUP BY status",
            (accepted.event_id,),
        ).fetchall()
    assert dict(after) == {"sent": total}
    for name in all_queue_names(queue_prefix):
        for queue in (name, *delays(name), name + DEAD_LETTER_SUFFIX):
            assert ready(amqp, queue) == 0, queue


def test_rabbit_publisher_check_notices_a_connection_that_died_unseen(queue_prefix: str) -> None:
    publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(queue_prefix), confirm_timeout_s=3)
    publisher.check()
    session = publisher._session
    assert session is not None
    # Closing the socket under pika: the session still looks usable until it is used.
    session._connection._transport._sock.shutdown(socket.SHUT_RDWR)
    publisher.check()  # reconnects once and answers
    assert publisher._session is not session
    publisher.close()
