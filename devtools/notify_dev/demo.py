"""`make demo`: one event of each type through API Gateway, then what LocalStack's SES and SNS got."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from notify_dev.api import ACCEPTED_STATUSES, list_notifications, settled_notifications
from notify_dev.demo_data import DEMO_MOVIES, DEMO_USERS
from notify_dev.endpoints import DATABASE_URL, ROOT, api_headers, load_endpoints
from notify_dev.polling import wait_for
from notify_dev.stores import push_messages, push_notification, ses_messages, sms_messages
from notify_dev.web import http


def _demo_events() -> list[dict[str, Any]]:
    """One event of each type for the demo users; each goes out on its type's channels."""
    users = [u["user_id"] for u in DEMO_USERS]
    movies = [m["movie_id"] for m in DEMO_MOVIES]
    now = datetime.now(UTC).isoformat()
    events: list[tuple[str, int, list[str], list[str]]] = [
        ("new_episode", 8, users, movies[:1]),
        ("comment_liked", 5, users[:1], movies[1:2]),
        ("new_releases_promo", 1, users, movies),
        ("watch_later_reminder", 4, users[1:], movies[2:]),
    ]
    return [
        {
            "event_type": kind,
            "created_dt": now,
            "priority": priority,
            "payload": {"user": who, "content": what},
        }
        for kind, priority, who, what in events
    ]


def _post_own_events(api: str) -> dict[str, str]:
    posted: dict[str, str] = {}
    for event in _demo_events():
        status, body = http(
            "POST", f"{api}/events", event, headers={"Idempotency-Key": str(uuid.uuid4()), **api_headers()}
        )
        if status != 202:
            raise RuntimeError(f"POST /events ({event['event_type']}) answered {status}: {body}")
        posted[body["event_id"]] = event["event_type"]
        print(
            f"POST /events {event['event_type']:<21} → 202 event {body['event_id']}: "
            f"{body['recipients']} recipients, {body['notifications']} notifications"
        )
    return posted


def _post_generated_events(api: str) -> dict[str, str]:
    """The event generator's first four events are one of each type; it fills the directory first."""
    with tempfile.TemporaryDirectory() as scratch:
        answers = Path(scratch) / "answers.jsonl"
        command = [sys.executable, "-m", "notify_dev.generate", "--api-url", api, "--users", "20"]
        command += ["--movies", "6", "--events", "4", "--rate", "0", "--seed", "2", "--output", str(answers)]
        print("$ python -m notify_dev.generate " + " ".join(command[5:-2]))
        subprocess.run(command, check=True, cwd=ROOT)
        posted: dict[str, str] = {}
        for line in answers.read_text().splitlines():
            answer = json.loads(line)
            posted[answer["event_id"]] = answer["event_type"]
            print(
                f"POST /events {answer['event_type']:<21} → 202 event {answer['event_id']}: "
                f"{answer['recipients']} recipients, {answer['notifications']} notifications"
            )
    return posted


def _names(user_ids: set[str]) -> dict[str, str]:
    """Recipients' names from the directory (the demo prints them instead of ids)."""
    try:
        with psycopg.connect(DATABASE_URL) as conn:
            rows = conn.execute(
                "SELECT user_id::text, concat_ws(' ', first_name, last_name) FROM directory_users"
                " WHERE user_id = ANY(%s::uuid[])",
                (list(user_ids),),
            ).fetchall()
    except psycopg.Error:
        return {}
    return {user_id: name for user_id, name in rows if name}


def demo(timeout: float, own_events: bool) -> int:
    endpoints = load_endpoints()
    api, localstack_url = endpoints["api_url"], endpoints["localstack_url"]
    before_ses = {m["Id"] for m in ses_messages(localstack_url)}
    before_sms = {m["MessageId"] for ms in sms_messages(localstack_url).values() for m in ms}
    before_push = {m["MessageId"] for ms in push_messages(localstack_url).values() for m in ms}

    started = time.monotonic()
    try:
        posted = _post_own_events(api) if own_events else _post_generated_events(api)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    try:
        final = wait_for(
            lambda: settled_notifications(api, posted), timeout=timeout, interval=0.25, what="every delivery"
        )
    except TimeoutError as error:
        print(f"demo: {error}; statuses so far:", file=sys.stderr)
        for event_id in posted:
            for item in list_notifications(api, event_id):
                print(f"  {event_id} {item['channel']:<5} {item['status']}", file=sys.stderr)
        return 1
    print(
        f"\nNo notification is on its way any more {time.monotonic() - started:.1f} s after the first POST"
        " (held and deferred ones go out later, with the minute tick)."
    )

    names = _names({item["user_id"] for items in final.values() for item in items})
    print("\nStatuses (GET /events/{id}/notifications):")
    for event_id, items in final.items():
        counts: dict[str, int] = {}
        for item in items:
            key = f"{item['channel']} {item['status']}"
            counts[key] = counts.get(key, 0) + 1
        summary = ", ".join(f"{key} {count}" for key, count in sorted(counts.items())) or "no recipients"
        print(f"  {posted[event_id]:<21} {event_id}: {summary}")
        for item in items:
            if item["status"] not in ACCEPTED_STATUSES:  # only what did not reach the provider
                who = names.get(item["user_id"], item["user_id"])
                why = ": ".join(str(part) for part in (item["reason"], item["error"]) if part)
                print(f"    {item['channel']} to {who}: {item['status']} ({why})")

    emails = [m for m in ses_messages(localstack_url) if m["Id"] not in before_ses]
    sms = [
        (phone, m)
        for phone, ms in sms_messages(localstack_url).items()
        for m in ms
        if m["MessageId"] not in before_sms
    ]
    pushes = [
        (token, m)
        for token, ms in push_messages(localstack_url).items()
        for m in ms
        if m["MessageId"] not in before_push
    ]
    _listing(
        f"E-mail in LocalStack's SES store ({endpoints['stores']['ses']})",
        [f"{', '.join(m['Destination']['ToAddresses'])}: {m['Subject']}" for m in emails],
    )
    _listing(
        f"SMS in LocalStack's SNS store ({endpoints['stores']['sms']})",
        [f"{phone}: {message['Message']}" for phone, message in sms],
    )
    _listing(
        f"Push in LocalStack's SNS store ({endpoints['stores']['push']})",
        [
            f"device {token if len(token) <= 20 else token[:16] + '…'}: {n.get('title')} — {n.get('body')}"
            for token, n in ((token, push_notification(message)) for token, message in pushes)
        ],
    )
    return 0


def _listing(title: str, lines: list[str], limit: int = 6) -> None:
    print(f"\n{title}: {len(lines)}")
    for line in lines[:limit]:
        print(f"  {line}")
    if len(lines) > limit:
        print(f"  … and {len(lines) - limit} more")
