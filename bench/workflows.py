"""Workflows benchmark: advancing workflow runs costs what is due, not what is waiting.

1,000 runs due among 10,000 waiting, and 1,000 due among 1,000,000 waiting (--waiting), each advanced
through the code the tick runs (notify.workflows.advance_runs on the PostgreSQL store): every due run
claimed, its next step taken (a push send: the notification row and its outbox message), its state
written, and the messages published to RabbitMQ with confirms. The runs are generated inside
PostgreSQL (generate_series) as an event of a two-step workflow (a delay, then a push) leaves them:
all past their first step, the due ones with their delay over. Repeated (--repeat, median reported),
the two databases in turns; between repetitions the due runs are put back.

Run with `make bench` (or `.venv/bin/python bench/workflows.py`). It creates its own databases and
queues and removes them at the end. The last line printed is JSON:
{"bench": "workflows", "waiting": N, "due": D, "advance_s": ..., "advance_small_s": ...,
 "scaling_ratio": ...}.
Target: scaling_ratio (N waiting ÷ 10,000 waiting) ≤ 2.
"""

import argparse
import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from notify.adapters.postgres import PostgresStore
from notify.adapters.rabbitmq.publisher import RabbitPublisher
from notify.channels import QueueRouter, all_queue_names
from notify.settings import Settings
from notify.workflows import KeptVersions, RunPolicy, WorkflowDefinition, advance_runs, put_workflow
from notify_dev.scratch import RABBITMQ_URL, purge, queued_messages, scratch_database, scratch_queue_prefix

WORKFLOW = {
    "steps": [{"type": "delay", "seconds": 3600}, {"type": "send", "channel": "push"}],
    "templates": {"push": {"en": {"title": "Later", "body": "It is time"}}},
}
SMALL_WAITING = 10_000


def load(dsn: str, waiting: int, due: int, at: datetime) -> uuid.UUID:
    """A workflow, one event, `waiting` recipients with a push token and a run each, waiting out the
    delay; every (waiting // due)-th run is due at `at`, spread through the table."""
    store = PostgresStore(dsn)
    store.migrate()
    put_workflow("later", WorkflowDefinition.model_validate(WORKFLOW), now=at, store=store)
    store.close()
    event_id = uuid.uuid4()
    every = waiting // due
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO directory_users (user_id, push_token)
            SELECT md5('bench-user-' || n)::uuid, 'push-token-' || n FROM generate_series(1, %(n)s) AS n
            """,
            {"n": waiting},
        )
        conn.execute(
            """
            INSERT INTO events (event_id, event_type, workflow_version, runs, created_dt, priority, status,
                                content, recipients)
            VALUES (%s, 'later', 1, true, %s, 5, 'queued', '[]', %s)
            """,
            (event_id, at, waiting),
        )
        conn.execute(
            """
            INSERT INTO workflow_runs (event_id, user_id, position, since, state, wake_at, history)
            SELECT %(event)s, md5('bench-user-' || n)::uuid, 0,
                   %(since)s, 'waiting',
                   CASE WHEN n %% %(every)s = 0 THEN %(due_at)s ELSE %(later)s END, '[]'
            FROM generate_series(1, %(n)s) AS n
            """,
            {
                "event": event_id,
                "since": at - timedelta(hours=1),
                "every": every,
                "due_at": at - timedelta(seconds=1),
                "later": at + timedelta(hours=1),
                "n": waiting,
            },
        )
        conn.execute("ANALYZE workflow_runs")
        conn.execute("ANALYZE notifications")
    return event_id


def reset(dsn: str, event_id: uuid.UUID, at: datetime) -> None:
    """The advanced runs due again, their sends gone."""
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM notifications WHERE event_id = %s", (event_id,))
        conn.execute("DELETE FROM outbox")
        conn.execute(
            """
            UPDATE workflow_runs SET position = 0, state = 'waiting', since = %s, wake_at = %s, history = '[]'
            WHERE state = 'done'
            """,
            (at - timedelta(hours=1), at - timedelta(seconds=1)),
        )


def time_advance(dsn: str, prefix: str, at: datetime, due: int, chunk_size: int) -> float:
    router = QueueRouter(prefix)
    store = PostgresStore(dsn)
    publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(prefix))
    try:
        store.check()  # pool open and broker connected before the clock starts
        publisher.check()
        started = time.perf_counter()
        report = advance_runs(
            runs=store,
            versions=KeptVersions(store),
            outbox=store,
            publisher=publisher,
            policy=RunPolicy(router, chunk_size=chunk_size, batch_size=1000),
            now=lambda: at,
            time_left=lambda: 60.0,
        )
        elapsed = time.perf_counter() - started
    finally:
        publisher.close()
        store.close()
    if (report.advanced, report.sends) != (due, due):
        raise SystemExit(
            f"advanced {report.advanced} runs with {report.sends} sends, expected {due} and {due}"
        )
    queued = queued_messages(prefix)
    purge(prefix)  # the next measurement counts its own
    if queued != -(-due // chunk_size):
        raise SystemExit(f"{queued} messages queued, expected {-(-due // chunk_size)}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--waiting", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5, help="advances of each kind (median reported)")
    args = parser.parse_args(argv)
    chunk_size = Settings().message_chunk_size
    at = datetime.now(UTC).replace(microsecond=0)
    small_waiting = min(SMALL_WAITING, args.waiting)

    with (
        scratch_queue_prefix("bench") as prefix,
        scratch_database("notify_bench") as small_dsn,
        scratch_database("notify_bench") as large_dsn,
    ):
        events = {}
        for dsn, waiting in ((small_dsn, small_waiting), (large_dsn, args.waiting)):
            started = time.perf_counter()
            events[dsn] = load(dsn, waiting, args.due, at)
            took = time.perf_counter() - started
            print(f"{waiting:,} runs waiting ({args.due:,} due) generated in {took:.2f} s")
        small_s: list[float] = []
        large_s: list[float] = []
        for run in range(1, args.repeat + 1):
            if run > 1:
                reset(small_dsn, events[small_dsn], at)
                reset(large_dsn, events[large_dsn], at)
            small_s.append(time_advance(small_dsn, prefix, at, args.due, chunk_size))
            large_s.append(time_advance(large_dsn, prefix, at, args.due, chunk_size))
            print(
                f"run {run}: {args.due:,} due runs advanced, their pushes stored and published: "
                f"{large_s[-1]:.3f} s among {args.waiting:,} waiting, "
                f"{small_s[-1]:.3f} s among {small_waiting:,}"
            )
        advance_s, advance_small_s = statistics.median(large_s), statistics.median(small_s)
    print(
        json.dumps(
            {
                "bench": "workflows",
                "waiting": args.waiting,
                "due": args.due,
                "advance_s": round(advance_s, 4),
                "advance_small_s": round(advance_small_s, 4),
                "scaling_ratio": round(advance_s / advance_small_s, 3),
                "statistic": f"median of {args.repeat}",
            }
        )
    )


if __name__ == "__main__":
    main()
