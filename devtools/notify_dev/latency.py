"""`make latency`: POST → the e-mail, the SMS and the push in LocalStack's stores, timed."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from notify_dev.demo_data import DEMO_MOVIES
from notify_dev.endpoints import api_headers, load_endpoints
from notify_dev.stores import emails_to, push_messages, sms_messages
from notify_dev.web import http


def latency(runs: int) -> dict[str, Any]:
    """POST one new_episode event for a user of its own and time it until its e-mail, SMS and push are in
    LocalStack's stores; `runs` times, one after the other."""
    endpoints = load_endpoints()
    api, localstack_url = endpoints["api_url"], endpoints["localstack_url"]
    movie = DEMO_MOVIES[0]
    totals: list[float] = []
    posts: list[float] = []
    made: dict[str, list[str]] = {"users": [], "events": []}
    try:
        for _ in range(runs):
            total, post = _one_latency(api, localstack_url, movie, made)
            totals.append(total)
            posts.append(post)
    finally:
        with psycopg.connect(endpoints["database_url"], autocommit=True) as conn:
            conn.execute("DELETE FROM notifications WHERE event_id = ANY(%s::uuid[])", (made["events"],))
            conn.execute("DELETE FROM events WHERE event_id = ANY(%s::uuid[])", (made["events"],))
            conn.execute("DELETE FROM directory_users WHERE user_id = ANY(%s::uuid[])", (made["users"],))
    ordered = sorted(totals)
    return {
        "runs": runs,
        "post_to_three_deliveries_s": {
            "median": round(statistics.median(ordered), 3),
            "p90": round(ordered[max(0, int(0.9 * runs) - 1)], 3),
            "min": round(ordered[0], 3),
            "max": round(ordered[-1], 3),
        },
        "post_answer_s_median": round(statistics.median(posts), 3),
    }


def _one_latency(
    api: str, localstack_url: str, movie: dict[str, Any], made: dict[str, list[str]]
) -> tuple[float, float]:
    tag = uuid.uuid4().hex[:12]
    user = {
        "user_id": str(uuid.uuid4()),
        "first_name": "Latency",
        "email": f"latency-{tag}@e2e.example",
        "phone": f"+1666{int(tag[:7], 16) % 10**7:07d}",
        "push_token": f"latency-{tag}",
    }
    status, body = http("PUT", f"{api}/directory/users", [user], api_headers())
    assert status == 200, body
    made["users"].append(user["user_id"])
    event = {
        "event_type": "new_episode",
        "created_dt": datetime.now(UTC).isoformat(),
        "priority": 8,
        "payload": {"user": [user["user_id"]], "content": [movie["movie_id"]]},
    }
    started = time.monotonic()
    status, body = http("POST", f"{api}/events", event, api_headers())
    posted = time.monotonic()
    assert status == 202, body
    made["events"].append(body["event_id"])
    pending = {"email", "sms", "push"}
    while pending:
        if "email" in pending and emails_to(user["email"], localstack_url):
            pending.discard("email")
        if "sms" in pending and user["phone"] in sms_messages(localstack_url):
            pending.discard("sms")
        if "push" in pending and user["push_token"] in push_messages(localstack_url):
            pending.discard("push")
        if time.monotonic() - started > 60:
            raise TimeoutError(f"still waiting for {sorted(pending)} after 60 s")
        time.sleep(0.02)
    return time.monotonic() - started, posted - started
