"""Fan-out benchmark: one event to 100,000 users with e-mail, next to a raw COPY of the same rows.

Measured in process from the ingest's service call (a validated EventRequest in, no HTTP)
to every notification stored and every message published to RabbitMQ with confirms.
The baseline is a COPY of the same 100,000 (event_id, channel, user_id, status) rows into a
table of the notifications table's shape, in the same database, in the same run.

Run with `make bench` (or `.venv/bin/python bench/fanout.py`); needs PostgreSQL and RabbitMQ
on this machine. It creates its own database and queues and removes them at the end.
The last line printed is JSON:
{"bench": "fanout", "recipients": N, "rate_per_s": ..., "copy_rate_per_s": ..., "ratio": ...}.
Target: ratio >= 0.3; 0.5 is the goal beyond it.
"""

import argparse
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

import psycopg

from notify.adapters.postgres import PostgresStore
from notify.adapters.rabbitmq.publisher import RabbitPublisher
from notify.channels import EventType, QueueRouter, all_queue_names
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryMovie, EventRequest
from notify.settings import Settings
from notify_dev.scratch import RABBITMQ_URL, purge, queued_messages, scratch_database, scratch_queue_prefix

COPY_TABLE = "bench_copy_notifications"


def load_directory(dsn: str, user_ids: list[str]) -> DirectoryMovie:
    movie = DirectoryMovie(movie_id=uuid.uuid4(), title="The Lighthouse Keepers", season=1)
    with psycopg.connect(dsn) as conn:
        with conn.cursor().copy(
            "COPY directory_users (user_id, first_name, last_name, email, locale, timezone) FROM STDIN"
        ) as copy:
            for n, user_id in enumerate(user_ids):
                copy.write_row(
                    (
                        user_id,
                        f"Viewer{n}",
                        "Benchmark",
                        f"viewer{n}@cinema.example",
                        "ru" if n % 3 == 0 else "en",
                        "Europe/Moscow" if n % 3 == 0 else "UTC",
                    )
                )
        conn.execute(
            "INSERT INTO directory_movies (movie_id, title, season) VALUES (%s, %s, %s)",
            (movie.movie_id, movie.title, movie.season),
        )
        conn.execute(f"CREATE TABLE {COPY_TABLE} (LIKE notifications INCLUDING ALL)")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return movie


def time_fanout(
    request: EventRequest, store: PostgresStore, publisher: RabbitPublisher, prefix: str, chunk_size: int
) -> float:
    started = time.perf_counter()
    accepted = accept_event(
        request,
        now=datetime.now(UTC),
        # the workflow read from the store, as the API reads it
        ports=IngestPorts(events=store, directory=store, outbox=store, publisher=publisher, workflows=store),
        policy=IngestPolicy(router=QueueRouter(prefix), chunk_size=chunk_size),
    )
    elapsed = time.perf_counter() - started
    expected = len(request.payload.user or ())
    if accepted.notifications != expected or accepted.skipped_users:
        raise SystemExit(f"fan-out stored {accepted.notifications} notifications, expected {expected}")
    return elapsed


def time_copy(dsn: str, user_ids: list[str]) -> float:
    """COPY the same rows a fan-out stores: (event_id, channel, user_id, status), one fresh event."""
    event_id = uuid.uuid4()
    rows = [(event_id, "email", user_id, "queued") for user_id in user_ids]
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY {COPY_TABLE} (event_id, channel, user_id, status) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        elapsed = time.perf_counter() - started
        stored = conn.execute(
            f"SELECT count(*) FROM {COPY_TABLE} WHERE event_id = %s", (event_id,)
        ).fetchone()
    if stored != (len(user_ids),):
        raise SystemExit(f"COPY stored {stored} rows, expected {len(user_ids)}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="measurements of each kind (median reported)")
    args = parser.parse_args(argv)
    chunk_size = Settings().message_chunk_size
    user_ids = [str(uuid.uuid4()) for _ in range(args.recipients)]

    with scratch_database("notify_bench") as dsn, scratch_queue_prefix("bench") as prefix:
        print(f"database {dsn.rpartition('/')[2]}, queue prefix {prefix}, chunk size {chunk_size}")
        store = PostgresStore(dsn)
        publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(prefix))
        try:
            store.migrate()
            loaded = time.perf_counter()
            movie = load_directory(dsn, user_ids)
            print(
                f"loaded {len(user_ids):,} directory users with COPY in {time.perf_counter() - loaded:.2f} s"
            )
            # The body arrives validated: pydantic's work on 100,000 ids is not part of the measurement.
            request = EventRequest.model_validate(
                {
                    "event_type": EventType.NEW_RELEASES_PROMO,
                    "created_dt": datetime.now(UTC).isoformat(),
                    "priority": 2,
                    "payload": {"user": user_ids, "content": [str(movie.movie_id)]},
                }
            )
            publisher.check()  # connected and queues declared before the clock starts
            expected_messages = -(-len(user_ids) // chunk_size)
            fanout_s: list[float] = []
            copy_s: list[float] = []
            for run in range(1, args.repeat + 1):
                fanout_s.append(time_fanout(request, store, publisher, prefix, chunk_size))
                published = queued_messages(prefix)
                if published != expected_messages:
                    raise SystemExit(f"{published} messages reached RabbitMQ, expected {expected_messages}")
                copy_s.append(time_copy(dsn, user_ids))
                print(
                    f"run {run}: fan-out {fanout_s[-1]:.3f} s ({published} messages confirmed), "
                    f"COPY {copy_s[-1]:.3f} s"
                )
                purge(prefix)
        finally:
            publisher.close()
            store.close()

    n = len(user_ids)
    rate = n / statistics.median(fanout_s)
    copy_rate = n / statistics.median(copy_s)
    print(
        f"best of {args.repeat}: fan-out {n / min(fanout_s):,.0f} notifications/s, "
        f"COPY {n / min(copy_s):,.0f} rows/s, ratio {min(copy_s) / min(fanout_s):.2f}"
    )
    print(
        f"median of {args.repeat}: fan-out {rate:,.0f} notifications/s, COPY {copy_rate:,.0f} rows/s, "
        f"ratio {rate / copy_rate:.2f} (target >= 0.3, goal 0.5)"
    )
    print(
        json.dumps(
            {
                "bench": "fanout",
                "recipients": n,
                "rate_per_s": round(rate),
                "copy_rate_per_s": round(copy_rate),
                "ratio": round(rate / copy_rate, 3),
                "statistic": f"median of {args.repeat}",
            }
        )
    )


if __name__ == "__main__":
    main()
