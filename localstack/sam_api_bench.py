"""Latency of POST /events through `sam local start-api` (make api) and through API Gateway (make up).

    .venv/bin/python localstack/sam_api_bench.py [--requests 50] [--warmup 5] [--target sam|gateway|both]

Sequential requests, each a `new_episode` event for the demo directory's users (make up puts them there),
so each one also fans out and is delivered by the stack's senders. Prints one JSON line per target:
count, p50/p90/p99/max in milliseconds, and the statuses seen. Loopback only; bounded by --requests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from notify_dev.demo_data import DEMO_MOVIES, DEMO_USERS
from notify_dev.endpoints import api_headers, load_endpoints
from notify_dev.web import http


def _event() -> dict[str, Any]:
    return {
        "event_type": "new_episode",
        "created_dt": datetime.now(UTC).isoformat(),
        "priority": 5,
        "payload": {
            "user": [u["user_id"] for u in DEMO_USERS],
            "content": [DEMO_MOVIES[0]["movie_id"]],
        },
    }


def _percentile(sorted_ms: list[float], q: float) -> float:
    index = min(len(sorted_ms) - 1, max(0, round(q * len(sorted_ms)) - 1))
    return round(sorted_ms[index], 1)


def measure(base_url: str, requests: int, warmup: int) -> dict[str, Any]:
    headers = api_headers()
    statuses: dict[int, int] = {}
    for _ in range(warmup):
        http("POST", f"{base_url}/events", _event(), headers)
    timings: list[float] = []
    for _ in range(requests):
        started = time.perf_counter()
        status, _ = http("POST", f"{base_url}/events", _event(), headers)
        timings.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    timings.sort()
    return {
        "requests": requests,
        "p50_ms": _percentile(timings, 0.50),
        "p90_ms": _percentile(timings, 0.90),
        "p99_ms": _percentile(timings, 0.99),
        "max_ms": round(timings[-1], 1),
        "mean_ms": round(statistics.fmean(timings), 1),
        "statuses": statuses,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--target", choices=["sam", "gateway", "both"], default="both")
    args = parser.parse_args()
    endpoints = load_endpoints()
    targets = {"sam": endpoints.get("sam_api_url"), "gateway": endpoints["api_url"]}
    chosen = ["sam", "gateway"] if args.target == "both" else [args.target]
    for name in chosen:
        url = targets[name]
        if not url:
            print(f"no {name} API in .local/endpoints.json (make api / make up)", file=sys.stderr)
            return 1
        result = measure(url, max(1, min(args.requests, 1000)), max(0, min(args.warmup, 100)))
        print(json.dumps({"target": name, "url": url, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
