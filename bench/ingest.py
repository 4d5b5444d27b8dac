"""Ingest throughput: accepted single-recipient events per second through API Gateway on the deployed
local stack, with 8 concurrent producers, three ways in the same run:

- `single`: one event per `POST /events`;
- `batch`: 100 events per `POST /events/batch`;
- `ceiling`: `GET /health` answered from its cache, the cheapest request the same API Gateway → same
  function path serves: what the path itself costs, with no event in it.

Each event goes to one e-mail user (one row, one message, one e-mail), the users drawn from a pool of
the run's own, with the local admin key (no rate limit). The three kinds take turns in windows of
`--window` seconds, the order rotating round by round, so that drift on this shared 2-core machine and
the sending of the events accepted before fall on all alike. In a window every producer sends its next
request as soon as its last is answered; the window ends when the last answer of those started before
its deadline comes. A rate is what was accepted ÷ the kind's windows' time.

single_ratio = single_per_s ÷ ceiling_requests_per_s (target ≥ 0.5: an event costs at most twice the
cheapest request); batch_speedup = batch_per_s ÷ single_per_s (target ≥ 10, goal 20). p50_ms and p99_ms
are the latencies of the single POSTs.

Run with `make bench-ingest` (or `.venv/bin/python bench/ingest.py [--rounds 3 --window 3]`); needs the
stack. The last line printed is JSON: {"bench": "ingest", "single_per_s", "batch_per_s",
"ceiling_requests_per_s", "single_ratio", "batch_speedup", "p50_ms", "p99_ms", ...}.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from notify_dev.api import PENDING_STATUSES
from notify_dev.benchmarks import StackRun, ensure_stack, percentile, quiet_free_timezone, ratio
from notify_dev.web import http

PRODUCERS = 8
BATCH = 100
KINDS = ("ceiling", "single", "batch")


@dataclass
class Tally:
    """What one kind's windows did: accepted events (requests, for the ceiling), time, latencies."""

    accepted: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


def event_body(user: dict[str, Any], movie_id: str) -> dict[str, Any]:
    return {
        "event_type": "new_episode",
        "created_dt": datetime.now(UTC).isoformat(),
        "priority": 5,
        "payload": {"user": [user["user_id"]], "content": [movie_id]},
    }


def request_of(
    kind: str, api: str, admin: dict[str, str], users: list[dict[str, Any]], movie_id: str
) -> Callable[[], tuple[int, list[str]]]:
    """One request of `kind`: (what it accepted, the ids of the events it accepted)."""

    def ceiling() -> tuple[int, list[str]]:
        status, answer = http("GET", f"{api}/health", timeout=60)
        if status != 200:
            raise SystemExit(f"GET /health answered {status}: {answer}")
        return 1, []

    def single() -> tuple[int, list[str]]:
        status, answer = http("POST", f"{api}/events", event_body(random.choice(users), movie_id), admin, 60)
        if status != 202:
            raise SystemExit(f"POST /events answered {status}: {answer}")
        return 1, [answer["event_id"]]

    def batch() -> tuple[int, list[str]]:
        events = [event_body(random.choice(users), movie_id) for _ in range(BATCH)]
        status, answer = http("POST", f"{api}/events/batch", {"events": events}, admin, 60)
        if status != 207:
            raise SystemExit(f"POST /events/batch answered {status}: {answer}")
        accepted = [r["body"]["event_id"] for r in answer["results"] if r["status"] == 202]
        if len(accepted) != BATCH:
            raise SystemExit(
                f"POST /events/batch accepted {len(accepted)} of {BATCH}: {answer['results'][:3]}"
            )
        return len(accepted), accepted

    return {"ceiling": ceiling, "single": single, "batch": batch}[kind]


def window(send: Callable[[], tuple[int, list[str]]], seconds: float, tally: Tally | None) -> None:
    """PRODUCERS threads sending back to back until the deadline; recorded in `tally` unless None."""
    started = time.perf_counter()
    deadline = started + seconds
    failures: list[BaseException] = []

    def producer() -> None:
        while time.perf_counter() < deadline and not failures:
            sent = time.perf_counter()
            try:
                accepted, event_ids = send()
            except BaseException as error:  # noqa: BLE001 - the run stops on the first, below
                failures.append(error)
                return
            elapsed_ms = (time.perf_counter() - sent) * 1000
            if tally is not None:
                with tally.lock:
                    tally.accepted += accepted
                    tally.latencies_ms.append(elapsed_ms)
                    tally.event_ids.extend(event_ids)

    threads = [threading.Thread(target=producer) for _ in range(PRODUCERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"a producer failed: {failures[0]}")
    if tally is not None:
        tally.seconds += time.perf_counter() - started


def drain(run: StackRun, event_ids: list[str], timeout: float) -> int:
    """Wait until the events' e-mails are sent (so that the next bench does not pay for them); the
    rows still pending after `timeout`."""
    deadline, pending = time.monotonic() + timeout, 0
    with psycopg.connect(run.dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM notifications WHERE event_id = ANY(%s::uuid[]) AND status = ANY(%s)",
                (event_ids, sorted(PENDING_STATUSES)),
            ).fetchone()
            pending = int(row[0]) if row else 0
            if not pending:
                break
            time.sleep(1)
    return pending


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (a window of each kind)")
    parser.add_argument("--window", type=float, default=3.0, help="seconds of one kind's window")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of each kind first, not measured")
    parser.add_argument("--users", type=int, default=200, help="the pool the events' recipients come from")
    parser.add_argument(
        "--drain", type=float, default=300.0, help="seconds to wait for the e-mails at the end"
    )
    args = parser.parse_args(argv)
    rounds, seconds = max(1, min(args.rounds, 20)), max(0.5, min(args.window, 60.0))

    endpoints = ensure_stack()
    run, admin = StackRun(endpoints), {"Authorization": f"Bearer {endpoints['api_key']}"}
    tallies = {kind: Tally() for kind in KINDS}
    try:
        users = run.put_users(max(1, args.users), quiet_free_timezone(datetime.now(UTC)), kind="ingest")
        movie_id = run.put_movie()
        sends = {kind: request_of(kind, run.api, admin, users, movie_id) for kind in KINDS}
        warmup = Tally()
        for kind in KINDS:  # every function warm, with PRODUCERS environments each
            window(sends[kind], max(args.warmup, 0.5), warmup)
        run.events.extend(warmup.event_ids)
        for round_number in range(rounds):
            shift = round_number % len(KINDS)
            for kind in KINDS[shift:] + KINDS[:shift]:
                window(sends[kind], seconds, tallies[kind])
        for kind, tally in tallies.items():
            run.events.extend(tally.event_ids)
            p50, p99 = (percentile(tally.latencies_ms, q) for q in (50, 99))
            rate = f"{tally.accepted} in {tally.seconds:.1f} s = {tally.rate():.1f}/s"
            print(f"{kind:>8}: {rate}, request p50 {p50:.0f} ms, p99 {p99:.0f} ms", flush=True)
        print(f"waiting for the {len(run.events)} events' e-mails", flush=True)
        pending = drain(run, run.events, args.drain)
    finally:
        run.clean_up()

    single, batch, ceiling = (tallies[kind] for kind in ("single", "batch", "ceiling"))
    if pending:
        print(f"warning: {pending} e-mails still pending after {args.drain:.0f} s", flush=True)
    print(
        json.dumps(
            {
                "bench": "ingest",
                "producers": PRODUCERS,
                "rounds": rounds,
                "window_s": seconds,
                "single_per_s": round(single.rate(), 1),
                "batch_per_s": round(batch.rate(), 1),
                "ceiling_requests_per_s": round(ceiling.rate(), 1),
                "single_ratio": ratio(single.rate(), ceiling.rate()),
                "batch_speedup": ratio(batch.rate(), single.rate()),
                "p50_ms": round(percentile(single.latencies_ms, 50), 1),
                "p99_ms": round(percentile(single.latencies_ms, 99), 1),
                "batch_p50_ms": round(percentile(batch.latencies_ms, 50), 1),
                "ceiling_p50_ms": round(percentile(ceiling.latencies_ms, 50), 1),
                "pending_after_drain": pending,
                "target": "single_ratio >= 0.5, batch_speedup >= 10 (goal 20)",
            }
        )
    )


if __name__ == "__main__":
    main()
