"""Audience benchmark: one event to a topic of 1,000,000 subscribers, next to a raw COPY of the same rows.

Measured in one process through the code the functions run: `accept_event` (what POST /events does,
from a validated EventRequest, with the ingest's inline budget of fan-out steps, its time left taken
from a clock as a Lambda's is) and then `advance_fan_outs` in invocations of the tick's length, until
every notification row is stored and every queue message is confirmed by RabbitMQ. `accept_s` is the
service call alone; the rate is the 1,000,000 rows over the whole, accept included.

The baseline is a COPY of the same 1,000,000 (event_id, channel, user_id, status) rows into a table of
the notifications table's shape, in the same database, in the same run, read from a file written
beforehand. The directory is made in SQL and the subscriptions through the topics port in calls of
100,000 ids, so that no list of a million ids ever lives in this process: `peak_rss_mb` (this process's
ru_maxrss) is what the fan-out itself needs.

Run with `make bench` (or `.venv/bin/python bench/audience.py`); needs PostgreSQL and RabbitMQ. It
creates its own database and queues and removes them at the end. The last line printed is JSON:
{"bench": "audience", "recipients": N, "accept_s": ..., "rate_per_s": ..., "copy_rate_per_s": ...,
"ratio": ..., "peak_rss_mb": ...}. Targets: accept_s <= 1.0, ratio >= 0.3 (goal 0.5), peak_rss_mb <= 512.
"""

import argparse
import json
import resource
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from notify.adapters.postgres import PostgresStore
from notify.adapters.rabbitmq.publisher import RabbitPublisher
from notify.channels import EventType, QueueRouter, all_queue_names
from notify.events.fan_out import FanOutPolicy, advance_fan_outs
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import EventAccepted, EventRequest
from notify.settings import Settings
from notify.workflows import KeptVersions
from notify_dev.scratch import RABBITMQ_URL, purge, queued_messages, scratch_database, scratch_queue_prefix

COPY_TABLE = "bench_copy_notifications"
TOPIC = "bench:every-viewer"
SUBSCRIBE_CALL = 100_000  # ids per call, the API's limit
TICK_S = 50.0  # an invocation's time for fan-out steps: the tick's 60 s less its margin


def load_directory(dsn: str, users: int) -> None:
    """`users` directory users with an e-mail address, made by the database."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO directory_users (user_id, first_name, last_name, email, locale, timezone)
            SELECT gen_random_uuid(), 'Viewer' || n, 'Benchmark', 'viewer' || n || '@cinema.example',
                   CASE WHEN n %% 3 = 0 THEN 'ru' ELSE 'en' END,
                   CASE WHEN n %% 3 = 0 THEN 'Europe/Moscow' ELSE 'UTC' END
            FROM generate_series(1, %s) AS n
            """,
            (users,),
        )
        conn.execute(f"CREATE TABLE {COPY_TABLE} (LIKE notifications INCLUDING ALL)")


def subscribe_everyone(dsn: str, store: PostgresStore) -> int:
    """Subscribe every directory user to TOPIC through the port, SUBSCRIBE_CALL ids a call."""
    store.put_topic(TOPIC, "Everyone who watches anything")
    with psycopg.connect(dsn) as conn, conn.cursor(name="everyone") as cursor:
        cursor.execute("SELECT user_id::text FROM directory_users ORDER BY user_id")
        while batch := cursor.fetchmany(SUBSCRIBE_CALL):
            done = store.change_subscribers(TOPIC, [row[0] for row in batch], [])
            if done is None or done.unknown_users:
                raise SystemExit(f"subscribing failed: {done}")
    found = store.find_topic(TOPIC)
    return 0 if found is None else found.subscribers


def write_copy_file(dsn: str, path: Path) -> None:
    """The rows a fan-out stores, for one fresh event, as COPY text: written before the clock starts."""
    event_id = uuid.uuid4()
    with (
        psycopg.connect(dsn) as conn,
        path.open("wb") as out,
        conn.cursor().copy(
            "COPY (SELECT %s::uuid, 'email', user_id, 'queued' FROM directory_users) TO STDOUT", (event_id,)
        ) as copy,
    ):
        for block in copy:
            out.write(block)


def time_copy(dsn: str, path: Path, expected: int) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute(f"TRUNCATE {COPY_TABLE}")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor().copy(f"COPY {COPY_TABLE} (event_id, channel, user_id, status) FROM STDIN") as copy,
            path.open("rb") as rows,
        ):
            while block := rows.read(1 << 20):
                copy.write(block)
        conn.commit()
        elapsed = time.perf_counter() - started
        stored = conn.execute(f"SELECT count(*) FROM {COPY_TABLE}").fetchone()
    if stored != (expected,):
        raise SystemExit(f"COPY stored {stored} rows, expected {expected}")
    return elapsed


class Budget:
    """Seconds left until a deadline, as a Lambda context's remaining time."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self) -> float:
        return self.deadline - time.monotonic()


def clock_budget(seconds: float) -> Budget:
    return Budget(time.monotonic() + seconds)


def time_audience_event(
    request: EventRequest, store: PostgresStore, publisher: RabbitPublisher, settings: Settings, prefix: str
) -> tuple[float, float, EventAccepted, int]:
    """(accept seconds, total seconds to every row stored and message confirmed, the answer, invocations)."""
    router = QueueRouter(prefix)
    started = time.perf_counter()
    accepted = accept_event(
        request,
        now=datetime.now(UTC),
        ports=IngestPorts(
            events=store,
            directory=store,
            outbox=store,
            publisher=publisher,
            audiences=store,
            fan_outs=store,
            workflows=store,  # the workflow read from the store, as the API reads it
        ),
        policy=IngestPolicy(
            router=router,
            chunk_size=settings.message_chunk_size,
            fan_out_step=settings.fan_out_step,
            fan_out_inline_s=settings.fan_out_inline_seconds,
        ),
        time_left=clock_budget(29.0),  # API Gateway's limit
    )
    accept_s = time.perf_counter() - started
    # the channels of the event's workflow version read from the store, as the tick reads them
    policy = FanOutPolicy(
        router, settings.fan_out_step, settings.message_chunk_size, KeptVersions(store).channels
    )
    invocations = 0
    complete = accepted.fan_out is not None and accepted.fan_out.complete
    while not complete:
        invocations += 1
        report = advance_fan_outs(
            fan_outs=store,
            outbox=store,
            publisher=publisher,
            policy=policy,
            now=lambda: datetime.now(UTC),
            time_left=clock_budget(TICK_S),
            event_id=accepted.event_id,
        )
        complete = report.completed > 0
        if report.steps == 0:
            raise SystemExit("the fan-out stopped before it was complete")
    return accept_s, time.perf_counter() - started, accepted, invocations


def check_stored(dsn: str, event_id: uuid.UUID, expected: int) -> None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            """
            SELECT (SELECT count(*) FROM notifications WHERE event_id = %(id)s),
                   (SELECT count(DISTINCT user_id) FROM notifications WHERE event_id = %(id)s),
                   (SELECT count(*) FROM outbox WHERE published_at IS NULL),
                   e.notifications, e.fan_out_done, e.fan_out_complete
            FROM events e WHERE e.event_id = %(id)s
            """,
            {"id": event_id},
        ).fetchone()
    if row != (expected, expected, 0, expected, expected, True):
        raise SystemExit(
            f"stored (rows, users, unpublished, counted, done, complete) = {row}, expected {expected}"
        )


def reset(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE notifications, outbox")
        conn.execute("VACUUM ANALYZE notifications")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each kind (median reported)")
    args = parser.parse_args(argv)
    settings = Settings()
    n = args.recipients

    with (
        scratch_database("notify_bench") as dsn,
        scratch_queue_prefix("bench") as prefix,
        tempfile.TemporaryDirectory() as scratch,
    ):
        print(
            f"database {dsn.rpartition('/')[2]}, queue prefix {prefix},"
            f" chunk size {settings.message_chunk_size}, {settings.fan_out_step:,} members a step,"
            f" {settings.fan_out_inline_seconds} s of them in the request"
        )
        store = PostgresStore(dsn)
        publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(prefix))
        copy_file = Path(scratch) / "rows.copy"
        try:
            store.migrate()
            loaded = time.perf_counter()
            load_directory(dsn, n)
            subscribers = subscribe_everyone(dsn, store)
            if subscribers != n:
                raise SystemExit(f"the topic has {subscribers:,} subscribers, expected {n:,}")
            write_copy_file(dsn, copy_file)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            print(
                f"{n:,} directory users subscribed to {TOPIC} ({-(-n // SUBSCRIBE_CALL)} calls of the topics"
                f" port) in {time.perf_counter() - loaded:.1f} s"
            )
            request = EventRequest.model_validate(
                {
                    "event_type": EventType.NEW_RELEASES_PROMO,
                    "created_dt": datetime.now(UTC).isoformat(),
                    "priority": 2,
                    "payload": {"audience": TOPIC},
                }
            )
            publisher.check()  # connected and queues declared before the clock starts
            expected_messages = -(-n // settings.message_chunk_size)
            accept_s: list[float] = []
            total_s: list[float] = []
            copy_s: list[float] = []
            for run in range(1, args.repeat + 1):
                accepted_in, total, accepted, invocations = time_audience_event(
                    request, store, publisher, settings, prefix
                )
                check_stored(dsn, accepted.event_id, n)
                published = queued_messages(prefix)
                if published != expected_messages:
                    raise SystemExit(f"{published} messages reached RabbitMQ, expected {expected_messages}")
                if accepted.recipients != n or accepted.status != "queued":
                    raise SystemExit(f"answered {accepted.status} with {accepted.recipients} recipients")
                copy_s.append(time_copy(dsn, copy_file, n))
                accept_s.append(accepted_in)
                total_s.append(total)
                done = accepted.fan_out.done if accepted.fan_out else 0
                print(
                    f"run {run}: accepted in {accepted_in:.3f} s ({done:,} fanned out in the request),"
                    f" every row and message in {total:.2f} s ({invocations} invocation(s),"
                    f" {published:,} messages confirmed); COPY {copy_s[-1]:.2f} s"
                )
                purge(prefix)
                reset(dsn)
        finally:
            publisher.close()
            store.close()

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = n / statistics.median(total_s)
    copy_rate = n / statistics.median(copy_s)
    print(
        f"median of {args.repeat}: accepted in {statistics.median(accept_s):.3f} s (target <= 1.0); "
        f"{rate:,.0f} notifications/s, COPY {copy_rate:,.0f} rows/s, ratio {rate / copy_rate:.2f} "
        f"(target >= 0.3, goal 0.5); peak RSS {peak_rss_mb:.0f} MB (target <= 512)"
    )
    print(
        json.dumps(
            {
                "bench": "audience",
                "recipients": n,
                "accept_s": round(statistics.median(accept_s), 3),
                "rate_per_s": round(rate),
                "copy_rate_per_s": round(copy_rate),
                "ratio": round(rate / copy_rate, 3),
                "peak_rss_mb": round(peak_rss_mb),
                "statistic": f"median of {args.repeat}",
            }
        )
    )


if __name__ == "__main__":
    main()
