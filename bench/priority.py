"""Priority-isolation benchmark: how long a high-tier e-mail takes while a large low-tier event
drains, against the same with empty queues, on the deployed local stack, in the same run.

The stack is brought up first when LocalStack is down, and the API key header of bench/stack.py
is sent once the stack has keys. Users are e-mail only, PUT through the API in batches, in a time
zone where it is about noon (the default quiet hours hold nothing back), and new to the directory
(no promotion was reserved for them yet, so the frequency cap of 3 a day lets each one through):
--events users of their own for the high tier (20), and the low tier's backlog users.

The backlog is sized to drain in about --drain-seconds (120) whatever this machine does: first a
probe, one low-tier event to --probe users (300) of their own, drained while nothing else runs;
backlog = its rate × --drain-seconds (at least 500). --backlog N fixes it instead.

Latency = time.monotonic() just before `POST /events` → the message seen in LocalStack's SES store.
It is seen by a poller every 50 ms: the row's provider message id in the stack's database, then
`GET /_aws/ses?id=…` holding it (the store cannot be filtered by recipient, and reading 20,000
e-mails every 50 ms would load LocalStack more than the senders do); a figure can lag the true
arrival by up to one poll and the outcome write.

1. idle: --events new_episode events (priority 8, one recipient each), one every --spacing s
   (0.5), with the low tier empty;
2. backlog: one new_releases_promo (priority 1) to the --backlog users; once its first e-mail is
   sent, the same --events high-tier posts, spaced the same way, while it drains.
isolation_ratio = p99 under backlog / idle p99 (linear interpolation between ranks). Targets on
this 2-core machine (LocalStack shares the cores): isolation_ratio <= 3 (goal 1.5), idle p50 <= 1 s.
LocalStack 2026.3 accepts the mappings' ScalingConfig.MaximumConcurrency but does not enforce it
(one poller thread per SQS mapping), so the local figure measures LocalStack's scheduling of the
per-tier mappings and the host's cores, not that setting.

Run with `make bench` (or `.venv/bin/python bench/priority.py`); needs the stack (`make up`).
The users, the movie, the events, their rows and e-mails are removed at the end (the backlog is
waited for first, --timeout). The last line printed is JSON:
{"bench": "priority", "backlog": N, "probe_rate_per_s", "p50_s", "p99_s", "idle_p50_s", "idle_p99_s",
"isolation_ratio", ...}.
"""

import argparse
import json
import os
import threading
import time
import urllib.parse
from collections import Counter
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import psycopg

from notify_dev.api import PENDING_STATUSES
from notify_dev.benchmarks import (
    StackRun,
    ensure_stack,
    percentile,
    queue_depth,
    quiet_free_timezone,
    ratio,
    settle_email_events,
)
from notify_dev.endpoints import aws
from notify_dev.polling import wait_for
from notify_dev.web import http

POLL_S = 0.05


class Arrivals:
    """A thread that notes when each expected event's e-mail is in LocalStack's SES store."""

    def __init__(self, dsn: str, localstack_url: str) -> None:
        self._dsn, self._localstack_url = dsn, localstack_url
        self._posted: dict[str, float] = {}
        self._arrived: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="arrivals", daemon=True)

    def __enter__(self) -> "Arrivals":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def expect(self, event_id: str, posted_at: float) -> None:
        with self._lock:
            self._posted[event_id] = posted_at

    def _in_store(self, message_id: str) -> bool:
        query = urllib.parse.urlencode({"id": message_id})
        status, body = http("GET", f"{self._localstack_url}/_aws/ses?{query}")
        return status == 200 and isinstance(body, dict) and bool(body.get("messages"))

    def _watch(self) -> None:
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            while not self._stop.wait(POLL_S):
                with self._lock:
                    waiting = [e for e in self._posted if e not in self._arrived]
                if not waiting:
                    continue
                rows = conn.execute(
                    "SELECT event_id::text, provider_message_id FROM notifications"
                    " WHERE event_id = ANY(%s::uuid[]) AND channel = 'email'"
                    " AND provider_message_id IS NOT NULL",
                    (waiting,),
                ).fetchall()
                for event_id, message_id in rows:
                    if self._in_store(message_id):
                        with self._lock:
                            self._arrived[event_id] = time.monotonic()

    def latencies(self, event_ids: list[str], timeout: float) -> list[float]:
        """Seconds POST → store for each event, once all arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(e in self._arrived for e in event_ids):
                    break
            time.sleep(POLL_S)
        with self._lock:
            return [self._arrived[e] - self._posted[e] for e in event_ids if e in self._arrived]


def high_tier_round(
    run: StackRun, arrivals: Arrivals, users: list[dict[str, Any]], movie_id: str, spacing: float
) -> list[str]:
    """One new_episode (priority 8) per user, `spacing` seconds apart; their event ids."""
    event_ids = []
    for n, user in enumerate(users):
        if n:
            time.sleep(spacing)
        event_id, posted_at = run.post_event("new_episode", 8, [user], movie_id)
        arrivals.expect(event_id, posted_at)
        event_ids.append(event_id)
    return event_ids


def pending_rows(run: StackRun, event_id: str) -> int:
    return sum(1 for status in run.statuses(event_id).values() if status in PENDING_STATUSES)


def queue_depths(endpoints: dict[str, Any]) -> dict[str, int]:
    """Messages waiting or in flight in the e-mail queues (what "empty queues" means here)."""
    sqs = aws("sqs", endpoints["localstack_url"], endpoints["region"])
    depths = {}
    for name, url in endpoints["queues"].items():
        if name.startswith(f"{endpoints['queue_prefix']}-email-") and not name.endswith("-dlq"):
            depths[name] = queue_depth(sqs, url)
    return depths


def drain_rate(run: StackRun, zone: str, movie_id: str, recipients: int, timeout: float) -> float:
    """E-mails per second of one low-tier event to `recipients` users of its own, POST → all final."""
    users = run.put_users(recipients, zone, kind="probe")
    event_id, posted = run.post_event("new_releases_promo", 1, users, movie_id)
    finished, _ = run.wait_final(event_id, recipients, timeout)
    return recipients / max(finished - posted, 0.001)


def summary(latencies: list[float]) -> tuple[float, float]:
    return round(percentile(latencies, 50), 3), round(percentile(latencies, 99), 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--backlog", type=int, help="recipients of the low-tier event (default: sized by a probe)"
    )
    parser.add_argument("--drain-seconds", type=float, default=120, help="how long the sized backlog drains")
    parser.add_argument(
        "--probe", type=int, default=300, help="recipients of the probe that sizes the backlog"
    )
    parser.add_argument("--events", type=int, default=20, help="high-tier events, one recipient each")
    parser.add_argument("--spacing", type=float, default=0.5, help="seconds between high-tier posts")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the backlog")
    args = parser.parse_args(argv)

    endpoints = ensure_stack()
    run = StackRun(endpoints)
    try:
        zone = quiet_free_timezone(datetime.now(UTC))
        movie_id = run.put_movie()
        probe_rate = None
        if args.backlog is None:
            probe_rate = drain_rate(run, zone, movie_id, args.probe, args.timeout)
            args.backlog = max(500, round(probe_rate * args.drain_seconds))
            print(f"probe: {args.probe} low-tier e-mails at {probe_rate:.1f}/s; backlog {args.backlog:,}")
        high_users = run.put_users(args.events, zone, kind="high")
        backlog_users = run.put_users(args.backlog, zone, kind="backlog")
        print(f"PUT {args.events} + {args.backlog:,} users ({zone}); e-mail queues {queue_depths(endpoints)}")
        with Arrivals(run.dsn, endpoints["localstack_url"]) as arrivals:
            idle_ids = high_tier_round(run, arrivals, high_users, movie_id, args.spacing)
            idle = arrivals.latencies(idle_ids, timeout=120)
            print(f"idle: {len(idle)}/{args.events} arrived, p50/p99 {summary(idle)} s", flush=True)

            backlog_id, _ = run.post_event("new_releases_promo", 1, backlog_users, movie_id)
            wait_for(
                lambda: pending_rows(run, backlog_id) < args.backlog,
                timeout=120,
                what="the backlog's first e-mail",
            )
            busy_ids = high_tier_round(run, arrivals, high_users, movie_id, args.spacing)
            backlog_left = pending_rows(run, backlog_id)
            busy = arrivals.latencies(busy_ids, timeout=args.timeout)
            print(
                f"under backlog: {len(busy)}/{args.events} arrived, p50/p99 {summary(busy)} s; "
                f"{backlog_left:,} backlog rows still unfinished at the last high-tier post",
                flush=True,
            )
        _, statuses = run.wait_final(backlog_id, args.backlog, args.timeout)
        backlog_outcomes = Counter(statuses.values())
        print(f"backlog rows: {dict(backlog_outcomes)}")
        # The e-mail events are published after the sends (localstack_host_executor.ses_events): the
        # run ends when they are handled too, so that the next bench does not share the cores with them.
        settled = settle_email_events(endpoints, timeout=900)
        print(f"the run's e-mail events handled {settled:.0f} s after its last row was final")
    finally:
        run.clean_up()

    if len(idle) < args.events or len(busy) < args.events:
        raise SystemExit(f"high-tier e-mails missing: idle {len(idle)}, under backlog {len(busy)}")
    (idle_p50, idle_p99), (p50, p99) = summary(idle), summary(busy)
    print(
        json.dumps(
            {
                "bench": "priority",
                "backlog": args.backlog,
                "probe_rate_per_s": None if probe_rate is None else round(probe_rate, 1),
                "events": args.events,
                "p50_s": p50,
                "p99_s": p99,
                "idle_p50_s": idle_p50,
                "idle_p99_s": idle_p99,
                "isolation_ratio": ratio(p99, idle_p99),
                "backlog_unfinished_at_last_post": backlog_left,
                "backlog_sent": backlog_outcomes.get("sent", 0),
                "statistic": "percentiles of one round each, linear interpolation",
            }
        )
    )


if __name__ == "__main__":
    main()
