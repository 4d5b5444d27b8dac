"""Tick benchmark: the minute tick's cost follows the due schedules, not the stored ones.

Three measurements, in process, against PostgreSQL and RabbitMQ on this machine:

1. 1,000,000 schedules stored (one recipient each), 1,000 of them due: one run_tick, from the
   call to every occurrence stored (event, notification, outbox message) and its message
   published to RabbitMQ with confirms.
2. The same with only 1,000 schedules stored, all due.
3. The naive approach on the 1,000,000: read every schedule's cron, time zone and last run
   and evaluate the cron (notify.cron.next_run, croniter) to find the due ones, as a scheduler
   without an indexed next-run column would each minute. This takes minutes; that is the point.

The data is generated inside PostgreSQL (generate_series), as POST /events would have stored
it: directory users, schedules with varied crons and time zones, their accepting events. Each
tick measurement is repeated (--repeat, median reported), the two databases in turns; between
repetitions the occurrences are deleted and the due schedules put back.

Run with `make bench` (or `.venv/bin/python bench/tick.py`). It creates its own databases and
queues and removes them at the end. The last line printed is JSON:
{"bench": "tick", "schedules": N, "due": D, "tick_s": ..., "tick_small_s": ..., "scaling_ratio": ...,
 "naive_scan_s": ..., "speedup_vs_naive": ...}.
Targets: scaling_ratio <= 2 and speedup_vs_naive >= 100.
"""

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg

from notify.adapters.postgres import PostgresStore
from notify.adapters.rabbitmq.publisher import RabbitPublisher
from notify.channels import EventType, QueueRouter, all_queue_names
from notify.cron import latest_run, next_run
from notify.settings import Settings
from notify.tick import TickPolicy, run_tick
from notify_dev.scratch import RABBITMQ_URL, purge, queued_messages, scratch_database, scratch_queue_prefix

ZONES = ("UTC", "Europe/Moscow", "America/New_York")
# Due at the tick (a full hour): each names that moment in every zone above.
DUE_CRONS = ("*/5 * * * *", "0 * * * *", "*/15 * * * *")
# The others run later: within minutes, days, or a month.
LATER_CRONS = ("*/5 * * * *", "0 9 * * *", "30 18 * * 1", "0 20 * * 5", "15 10 1 * *")
EVENT_TYPES = (EventType.NEW_RELEASES_PROMO, EventType.WATCH_LATER_REMINDER)


def _combos(crons: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(cron, zone) for cron in crons for zone in ZONES]


def load(dsn: str, schedules: int, due: int, tick_at: datetime) -> None:
    """Directory users, one movie, schedules (one recipient each) and their accepting events.

    Rows n with n % (schedules // due) == 0 are due at `tick_at`, spread through the table; the
    others run later. last_run_at is what each cron last named, so that the naive scan finds
    the same due set from it. bench_plan keeps the cron and times of each kind of row."""
    due_combos, later_combos = _combos(DUE_CRONS), _combos(LATER_CRONS)
    with psycopg.connect(dsn) as conn:
        conn.execute("SET work_mem = '256MB'")
        conn.execute(
            "INSERT INTO directory_movies (movie_id, title, season) "
            "VALUES (md5('movie')::uuid, 'The Keepers', 1)"
        )
        conn.execute(
            """
            INSERT INTO directory_users (user_id, first_name, last_name, email, locale, timezone)
            SELECT md5('user' || n)::uuid, 'Viewer' || n, 'Benchmark', 'viewer' || n || '@cinema.example',
                   CASE WHEN n %% 3 = 0 THEN 'ru' ELSE 'en' END,
                   CASE WHEN n %% 3 = 0 THEN 'Europe/Moscow' ELSE 'UTC' END
            FROM generate_series(1, %(n)s) AS n
            """,
            {"n": schedules},
        )
        conn.execute(
            """
            CREATE TABLE bench_plan (due boolean, k integer, cron text, timezone text,
                                     last_run_at timestamptz, next_run_at timestamptz)
            """
        )
        with conn.cursor().copy("COPY bench_plan FROM STDIN") as copy:
            for k, (cron, zone) in enumerate(due_combos):
                copy.write_row(
                    (True, k, cron, zone, latest_run(cron, zone, tick_at - timedelta(seconds=1)), tick_at)
                )
            for k, (cron, zone) in enumerate(later_combos):
                copy.write_row((False, k, cron, zone, tick_at, next_run(cron, zone, tick_at)))
        conn.execute(
            """
            INSERT INTO schedules (schedule_id, event_type, priority, cron, timezone, user_ids, content_ids,
                                   next_run_at, last_run_at, runs, created_at)
            SELECT md5('schedule' || n)::uuid, (%(event_types)s::text[])[1 + n %% 2], n %% 10,
                   p.cron, p.timezone, ARRAY[md5('user' || n)::uuid::text], ARRAY[md5('movie')::uuid],
                   p.next_run_at, p.last_run_at, 3, %(tick_at)s::timestamptz - interval '30 days'
            FROM generate_series(1, %(n)s) AS n
            JOIN bench_plan p ON p.due = (n %% %(due_every)s = 0)
                             AND p.k = n %% CASE WHEN p.due THEN %(due_kinds)s ELSE %(later_kinds)s END
            """,
            {
                "n": schedules,
                "due_every": schedules // due,
                "due_kinds": len(due_combos),
                "later_kinds": len(later_combos),
                "event_types": [str(t) for t in EVENT_TYPES],
                "tick_at": tick_at,
            },
        )
        conn.execute(
            """
            INSERT INTO events (event_id, event_type, created_dt, priority, status, schedule_id, content,
                                recipients, next_run_at)
            SELECT md5('event' || s.schedule_id)::uuid, s.event_type, s.created_at, s.priority, 'scheduled',
                   s.schedule_id, '[]'::jsonb, 1, s.next_run_at
            FROM schedules s
            """
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")  # the load's writes are not the tick's to wait for
        stored = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE next_run_at <= %s) FROM schedules", (tick_at,)
        ).fetchone()
    if stored != (schedules, due):
        raise SystemExit(f"loaded {stored} (schedules, due), expected {(schedules, due)}")


def reset(dsn: str) -> None:
    """Undo a tick: delete its occurrences and make their schedules due again, as loaded."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            UPDATE schedules s SET next_run_at = p.next_run_at, last_run_at = p.last_run_at, runs = 3
            FROM bench_plan p
            WHERE p.due AND p.cron = s.cron AND p.timezone = s.timezone
              AND s.schedule_id IN (SELECT schedule_id FROM events WHERE occurrence_key IS NOT NULL)
            """
        )
        conn.execute(
            """
            DELETE FROM notifications n USING events e
            WHERE e.event_id = n.event_id AND e.occurrence_key IS NOT NULL
            """
        )
        conn.execute("DELETE FROM outbox")
        conn.execute("DELETE FROM events WHERE occurrence_key IS NOT NULL")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE schedules, events, notifications, outbox")
        conn.execute("CHECKPOINT")


def time_tick(dsn: str, prefix: str, tick_at: datetime, due: int, chunk_size: int) -> float:
    store = PostgresStore(dsn)
    publisher = RabbitPublisher(RABBITMQ_URL, all_queue_names(prefix))
    try:
        store.check()  # pool open and broker connected before the clock starts
        publisher.check()
        started = time.perf_counter()
        report = run_tick(
            now=tick_at,
            schedules=store,
            waiting=store,
            outbox=store,
            publisher=publisher,
            policy=TickPolicy(
                router=QueueRouter(prefix),
                outbox_grace_s=30,
                max_lateness=timedelta(hours=1),
                chunk_size=chunk_size,
                batch_size=1000,
                reservations_kept_for=None,
            ),
        )
        elapsed = time.perf_counter() - started
    finally:
        publisher.close()
        store.close()
    published = queued_messages(prefix)
    if (report.occurrences_sent, report.occurrences_skipped_late, published) != (due, 0, due):
        raise SystemExit(f"tick sent {report} and {published} messages reached RabbitMQ, expected {due} each")
    with psycopg.connect(dsn) as conn:
        counts = conn.execute(
            """
            SELECT (SELECT count(*) FROM events WHERE occurrence_key IS NOT NULL),
                   (SELECT count(*) FROM notifications),
                   (SELECT count(*) FROM outbox WHERE published_at IS NOT NULL)
            """
        ).fetchone()
    if counts != (due, due, due):
        raise SystemExit(f"tick stored {counts} (occurrences, notifications, published), expected {due} each")
    purge(prefix)
    return elapsed


def naive_scan(dsn: str, tick_at: datetime) -> tuple[float, int]:
    """Every stored cron evaluated from its last run, as a per-row scheduler does each minute."""
    found = 0
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor(name="every_schedule") as cursor:
        cursor.itersize = 10_000
        cursor.execute(
            "SELECT cron, timezone, coalesce(last_run_at, created_at) FROM schedules WHERE state = 'active'"
        )
        for cron, zone, last in cursor:
            if next_run(cron, zone, last) <= tick_at:
                found += 1
    return time.perf_counter() - started, found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schedules", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5, help="ticks of each kind (median reported)")
    args = parser.parse_args(argv)
    chunk_size = Settings().message_chunk_size
    # A full hour, in the past: every due cron names it; the later ones come after it.
    tick_at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)

    with (
        scratch_queue_prefix("bench") as prefix,
        scratch_database("notify_bench") as small_dsn,
        scratch_database("notify_bench") as large_dsn,
    ):
        for dsn, stored in ((small_dsn, args.due), (large_dsn, args.schedules)):
            PostgresStore(dsn).migrate()
            started = time.perf_counter()
            load(dsn, stored, args.due, tick_at)
            print(
                f"{stored:,} schedules ({args.due:,} due) with their users and events "
                f"generated in {time.perf_counter() - started:.2f} s"
            )
        # Taken in turns, so that whatever else this machine does weighs on both alike.
        small_s: list[float] = []
        large_s: list[float] = []
        for run in range(1, args.repeat + 1):
            if run > 1:
                reset(small_dsn)
                reset(large_dsn)
            small_s.append(time_tick(small_dsn, prefix, tick_at, args.due, chunk_size))
            large_s.append(time_tick(large_dsn, prefix, tick_at, args.due, chunk_size))
            print(
                f"run {run}: one tick, {args.due:,} occurrences stored and published: "
                f"{large_s[-1]:.3f} s with {args.schedules:,} schedules stored, "
                f"{small_s[-1]:.3f} s with {args.due:,}"
            )
        tick_s, tick_small_s = statistics.median(large_s), statistics.median(small_s)

        reset(large_dsn)
        print(f"naive scan: evaluating all {args.schedules:,} crons with croniter (this takes minutes)")
        naive_scan_s, found = naive_scan(large_dsn, tick_at)
        if found != args.due:
            raise SystemExit(f"the naive scan found {found} due schedules, expected {args.due}")
        print(
            f"naive scan: {naive_scan_s:.1f} s, {naive_scan_s / args.schedules * 1e6:.0f} µs a schedule, "
            f"{found:,} due found"
        )

    scaling = tick_s / tick_small_s
    speedup = naive_scan_s / tick_s
    print(
        f"median of {args.repeat}: tick {tick_s:.3f} s with {args.schedules:,} stored, "
        f"{tick_small_s:.3f} s with {args.due:,} stored; scaling ratio {scaling:.2f} (target <= 2); "
        f"{speedup:,.0f}x faster than the naive scan (target >= 100)"
    )
    print(
        json.dumps(
            {
                "bench": "tick",
                "schedules": args.schedules,
                "due": args.due,
                "tick_s": round(tick_s, 4),
                "tick_small_s": round(tick_small_s, 4),
                "scaling_ratio": round(scaling, 3),
                "naive_scan_s": round(naive_scan_s, 2),
                "speedup_vs_naive": round(speedup, 1),
                "statistic": f"median of {args.repeat}",
            }
        )
    )


if __name__ == "__main__":
    main()
