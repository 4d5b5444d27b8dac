"""The local stack on LocalStack: what `make up` does after the deploy, `make demo`, and the helpers the
end-to-end tests share (the endpoints file, LocalStack's SES/SNS stores, polling with a deadline).

    python scripts/localdev.py prepare-db             create the database if missing, apply the schema
    python scripts/localdev.py finish --stack notify  SES sender, endpoints.json, health, demo directory
    python scripts/localdev.py demo                   one event of each type, then what was delivered
    python scripts/localdev.py latency --runs 20      POST → three deliveries, timed (JSON)
    python scripts/localdev.py memory                 resident memory of LocalStack and the functions

Stdlib + boto3 + psycopg + the notify package only: it runs from the project's .venv.
"""

from __future__ import annotations

import argparse
import email
import email.message
import email.policy
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS_FILE = ROOT / ".local" / "endpoints.json"
LOCALSTACK_URL = f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}"
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"  # LocalStack's account for the access key "test"
DATABASE_URL = os.environ.get("NOTIFY_LOCAL_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/notify")
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
# A notification in one of these is still on its way; any other status is an outcome for now (sent,
# failed, skipped, expired, or held for a digest / deferred past quiet hours until the tick sends it).
PENDING_STATUSES = frozenset({"queued", "sending", "retrying"})

# ---- plumbing ----------------------------------------------------------------------------------


def aws(service: str, endpoint_url: str = LOCALSTACK_URL, region: str = REGION) -> Any:
    """A boto3 client for LocalStack, with its fake credentials (never the host's ~/.aws)."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - LocalStack's well-known fake credentials
    )


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, Any]:
    """One JSON request; answers (status, decoded body or text). HTTP errors are answers, not raises."""
    data = None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1 only
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


def wait_for[T](
    probe: Callable[[], T | None], timeout: float, interval: float = 0.25, what: str = "condition"
) -> T:
    """Poll `probe` until it answers something truthy; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met within {timeout:g} s")
        time.sleep(interval)


def load_endpoints(path: Path = ENDPOINTS_FILE) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make up` first")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# ---- LocalStack's stores of what was "delivered" ------------------------------------------------

_loaded: set[tuple[str, str]] = set()


def _store(localstack_url: str, service: str, path: str) -> Any:
    """GET one of LocalStack's internal stores. LocalStack starts a service on its first API call, and
    only then serves its /_aws/ pages, so one cheap call goes first."""
    if (localstack_url, service) not in _loaded:
        client = aws(service, localstack_url)
        client.list_identities() if service == "ses" else client.list_topics()
        _loaded.add((localstack_url, service))
    status, body = http("GET", f"{localstack_url}{path}")
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body}")
    return body


def ses_messages(localstack_url: str = LOCALSTACK_URL) -> list[dict[str, Any]]:
    """Every e-mail SES accepted: Id, Source, Destination.ToAddresses, Subject, Body.text_part/html_part,
    Timestamp; a raw (MIME) message is parsed into those fields too, and keeps its Headers."""
    body = _store(localstack_url, "ses", "/_aws/ses")
    return [_parsed(message) for message in body.get("messages", [])]


def _parsed(message: dict[str, Any]) -> dict[str, Any]:
    raw = message.get("RawData")
    if not raw:
        return message
    mime = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(mime, email.message.EmailMessage)
    recipients = [
        address.addr_spec
        for field in ("To", "Cc", "Bcc")
        for header in [mime[field]]
        if header is not None
        for address in header.addresses
    ]
    parts = {}
    for kind in ("plain", "html"):
        part = mime.get_body(preferencelist=(kind,))
        if part is not None and part.get_content_subtype() == kind:
            parts[f"{'text' if kind == 'plain' else 'html'}_part"] = part.get_content()
    return {
        **message,
        "Destination": {"ToAddresses": recipients},
        "Subject": str(mime["Subject"] or ""),
        "Body": parts,
        "Headers": {name: str(value) for name, value in mime.items()},
    }


def sms_messages(localstack_url: str = LOCALSTACK_URL) -> dict[str, list[dict[str, Any]]]:
    """SMS published to phone numbers, by number: PhoneNumber, Message, MessageId, MessageAttributes."""
    body = _store(localstack_url, "sns", f"/_aws/sns/sms-messages?region={REGION}")
    return dict(body.get("sms_messages", {}))


def push_messages(localstack_url: str = LOCALSTACK_URL) -> dict[str, list[dict[str, Any]]]:
    """Push messages by device token (LocalStack keys them by platform endpoint ARN; each endpoint's
    token is looked up): TargetArn, Message (what the GCM platform got), MessageId."""
    body = _store(localstack_url, "sns", f"/_aws/sns/platform-endpoint-messages?region={REGION}")
    by_arn: dict[str, list[dict[str, Any]]] = body.get("platform_endpoint_messages", {})
    sns = aws("sns", localstack_url)
    by_token: dict[str, list[dict[str, Any]]] = {}
    for arn, messages in by_arn.items():
        if arn not in _endpoint_tokens:
            try:
                attributes = sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]
                _endpoint_tokens[arn] = attributes.get("Token", arn)
            except sns.exceptions.NotFoundException:
                _endpoint_tokens[arn] = arn
        by_token.setdefault(_endpoint_tokens[arn], []).extend(messages)
    return by_token


_endpoint_tokens: dict[str, str] = {}


def push_notification(message: dict[str, Any]) -> dict[str, str]:
    """The {"title", "body"} a device got from a stored push message (its GCM payload, which LocalStack
    keeps JSON-encoded as a string)."""
    payload: Any = json.loads(message["Message"])
    if isinstance(payload, str):
        payload = json.loads(payload)
    notification: dict[str, str] = payload.get("notification", {})
    return notification


def emails_to(address: str, localstack_url: str = LOCALSTACK_URL) -> list[dict[str, Any]]:
    return [
        m for m in ses_messages(localstack_url) if address in m.get("Destination", {}).get("ToAddresses", [])
    ]


def forget_deliveries(users: Iterable[dict[str, Any]], localstack_url: str = LOCALSTACK_URL) -> None:
    """Remove the users' messages from LocalStack's SES and SNS stores (test clean-up)."""
    users = list(users)
    emails = {u["email"] for u in users if u.get("email")}
    phones = {u["phone"] for u in users if u.get("phone")}
    tokens = {u["push_token"] for u in users if u.get("push_token")}
    for mail in ses_messages(localstack_url):
        if emails & set(mail.get("Destination", {}).get("ToAddresses", [])):
            http("DELETE", f"{localstack_url}/_aws/ses?{urllib.parse.urlencode({'id': mail['Id']})}")
    for phone in phones & set(sms_messages(localstack_url)):
        query = urllib.parse.urlencode({"phoneNumber": phone, "region": REGION})
        http("DELETE", f"{localstack_url}/_aws/sns/sms-messages?{query}")
    push_messages(localstack_url)  # learns the endpoints' tokens
    for arn, token in list(_endpoint_tokens.items()):
        if token in tokens:
            query = urllib.parse.urlencode({"endpointArn": arn})
            http("DELETE", f"{localstack_url}/_aws/sns/platform-endpoint-messages?{query}")


# ---- make up: the database, then what follows the deploy ---------------------------------------


def prepare_db(dsn: str = DATABASE_URL, reset: bool = False) -> None:
    """Create the database if it is missing and apply the service's schema (idempotent). The schema
    only adds what is missing: a database made by an older version may need `reset` (drop it first)."""
    from notify.adapters.postgres import PostgresStore

    base, _, name = dsn.rpartition("/")
    name = name.split("?", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if reset:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            print(f"localdev: dropped database {name}")
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"localdev: created database {name}")
    store = PostgresStore(dsn, 1)
    try:
        store.apply_schema()
    finally:
        store.close()
    print(f"localdev: schema applied to {name}")


# Demo directory data: fixed ids, so `make up` run twice upserts the same rows.
DEMO_MOVIES: list[dict[str, Any]] = [
    {
        "movie_id": "6f1c2b8e-0d4a-4e0b-9a51-000000000001",
        "title": "The Expanse",
        "season": 3,
        "episode": 7,
        "release_date": "2026-11-20",
    },
    {"movie_id": "6f1c2b8e-0d4a-4e0b-9a51-000000000002", "title": "Dune: Part Two"},
    {"movie_id": "6f1c2b8e-0d4a-4e0b-9a51-000000000003", "title": "Брат"},
]
DEMO_USERS: list[dict[str, Any]] = [
    {
        "user_id": "0c5e4f3a-7b1d-4c2e-8f90-000000000001",
        "first_name": "Anna",
        "last_name": "Petrova",
        "email": "anna@cinema.example",
        "phone": "+79990000001",
        "push_token": "demo-device-anna",
        "locale": "ru",
        "timezone": "Europe/Moscow",
    },
    {
        "user_id": "0c5e4f3a-7b1d-4c2e-8f90-000000000002",
        "first_name": "Ben",
        "last_name": "Carter",
        "email": "ben@cinema.example",
        "phone": "+447700900002",
        "push_token": "demo-device-ben",
        "locale": "en",
        "timezone": "Europe/London",
    },
    {
        "user_id": "0c5e4f3a-7b1d-4c2e-8f90-000000000003",
        "first_name": "Chloe",
        "email": "chloe@cinema.example",
        "locale": "en",
    },
]


def _outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _parameters(stack: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}


def describe(stack_name: str, localstack_url: str = LOCALSTACK_URL) -> dict[str, Any]:
    """The deployed stack as endpoints.json records it."""
    cfn = aws("cloudformation", localstack_url)
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs, parameters = _outputs(stack), _parameters(stack)
    resources: list[dict[str, Any]] = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        resources.extend(page["StackResourceSummaries"])
    functions: dict[str, str] = {}
    queues: dict[str, str] = {}
    for resource in resources:
        physical = resource.get("PhysicalResourceId", "")
        if resource["ResourceType"] == "AWS::Lambda::Function":
            functions[physical.removeprefix(f"{stack_name}-").replace("-", "_")] = physical
        elif resource["ResourceType"] == "AWS::SQS::Queue":
            queues[physical.rsplit("/", 1)[-1]] = physical
    api_id = outputs["ApiId"]
    return {
        "api_url": f"{localstack_url}/restapis/{api_id}/v1/_user_request_",
        "localstack_url": localstack_url,
        "region": REGION,
        "account_id": ACCOUNT_ID,
        "stack_name": stack_name,
        "stack_status": stack["StackStatus"],
        "api_id": api_id,
        "api_url_aws_style": outputs.get("ApiUrl"),
        "functions": dict(sorted(functions.items())),
        "tick_function": outputs.get("TickFunctionName", functions.get("tick")),
        "queues": dict(sorted(queues.items())),
        "queue_prefix": parameters.get("QueuePrefix", "notify"),
        "queue_visibility_timeout": int(parameters.get("QueueVisibilityTimeout", "180")),
        "max_receive_count": int(parameters.get("MaxReceiveCount", "5")),
        "email_sender": parameters.get("EmailSender", "notifications@cinema.example"),
        "database_url": DATABASE_URL,
        "rabbitmq_url": RABBITMQ_URL,
        "stores": {
            "ses": f"{localstack_url}/_aws/ses",
            "sms": f"{localstack_url}/_aws/sns/sms-messages",
            "push": f"{localstack_url}/_aws/sns/platform-endpoint-messages",
        },
    }


def api_url(stack_name: str, localstack_url: str = LOCALSTACK_URL) -> str:
    """The deployed stack's API URL on LocalStack, or "" when there is no such stack yet."""
    cfn = aws("cloudformation", localstack_url)
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError:
        return ""
    api_id = _outputs(stacks[0]).get("ApiId") if stacks else None
    return f"{localstack_url}/restapis/{api_id}/v1/_user_request_" if api_id else ""


def delete_stack(stack_name: str, localstack_url: str = LOCALSTACK_URL) -> None:
    cfn = aws("cloudformation", localstack_url)
    cfn.delete_stack(StackName=stack_name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack_name, WaiterConfig={"Delay": 1})


def finish(stack_name: str) -> dict[str, Any]:
    endpoints = describe(stack_name)
    # SES refuses a sender it has not verified.
    aws("ses").verify_email_identity(EmailAddress=endpoints["email_sender"])
    ENDPOINTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    # Keep what other tools added (make api's sam_api_url); the stack's own keys are refreshed.
    earlier = json.loads(ENDPOINTS_FILE.read_text()) if ENDPOINTS_FILE.exists() else {}
    ENDPOINTS_FILE.write_text(json.dumps(earlier | endpoints, indent=2) + "\n")
    print(f"localdev: wrote {ENDPOINTS_FILE.relative_to(ROOT)}")

    api = endpoints["api_url"]

    def healthy() -> bool:
        status, _ = http("GET", f"{api}/health", timeout=20)
        return status == 200

    started = time.monotonic()
    wait_for(healthy, timeout=90, interval=0.5, what="GET /health through API Gateway answering 200")
    print(f"localdev: API healthy after {time.monotonic() - started:.1f} s: {api}/health")
    for path, rows in (("/directory/movies", DEMO_MOVIES), ("/directory/users", DEMO_USERS)):
        status, body = http("PUT", f"{api}{path}", rows)
        if status != 200:
            raise RuntimeError(f"PUT {path} answered {status}: {body}")
        print(f"localdev: demo directory {path}: {body}")
    return endpoints


# ---- make demo ---------------------------------------------------------------------------------


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


def notifications(api: str, event_id: str) -> list[dict[str, Any]]:
    """Every notification row of an event (all pages)."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = f"?limit=1000&cursor={cursor}" if cursor else "?limit=1000"
        status, body = http("GET", f"{api}/events/{event_id}/notifications{query}")
        if status != 200:
            raise RuntimeError(f"GET /events/{event_id}/notifications answered {status}: {body}")
        items.extend(body["items"])
        cursor = body.get("next_cursor")
        if not cursor:
            return items


def settled(api: str, event_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]] | None:
    """The events' notifications once none is still on its way (see PENDING_STATUSES), else None."""
    found = {event_id: notifications(api, event_id) for event_id in event_ids}
    if all(item["status"] not in PENDING_STATUSES for items in found.values() for item in items):
        return found
    return None


def _post_own_events(api: str) -> dict[str, str]:
    posted: dict[str, str] = {}
    for event in _demo_events():
        status, body = http("POST", f"{api}/events", event, headers={"Idempotency-Key": str(uuid.uuid4())})
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
        command = [sys.executable, "-m", "notify.generate", "--api-url", api, "--users", "20"]
        command += ["--movies", "6", "--events", "4", "--rate", "0", "--seed", "2", "--output", str(answers)]
        print("$ python -m notify.generate " + " ".join(command[5:-2]))
        subprocess.run(command, check=True, cwd=ROOT)  # noqa: S603 - our own interpreter and module
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
        if own_events or importlib.util.find_spec("notify.generate") is None:
            posted = _post_own_events(api)
        else:
            posted = _post_generated_events(api)
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"demo: {error}", file=sys.stderr)
        return 1
    try:
        final = wait_for(lambda: settled(api, posted), timeout=timeout, interval=0.25, what="every delivery")
    except TimeoutError as error:
        print(f"demo: {error}; statuses so far:", file=sys.stderr)
        for event_id in posted:
            for item in notifications(api, event_id):
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
            if item["status"] != "sent":
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


# ---- measurements ------------------------------------------------------------------------------


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
    status, body = http("PUT", f"{api}/directory/users", [user])
    assert status == 200, body
    made["users"].append(user["user_id"])
    event = {
        "event_type": "new_episode",
        "created_dt": datetime.now(UTC).isoformat(),
        "priority": 8,
        "payload": {"user": [user["user_id"]], "content": [movie["movie_id"]]},
    }
    started = time.monotonic()
    status, body = http("POST", f"{api}/events", event)
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


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _parent(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = _parent(pid)
    return False


def function_processes() -> dict[str, list[int]]:
    """The pids of the function processes LocalStack's host executor runs, by function name: its
    descendants whose environment names a Lambda function (one per execution environment)."""
    pid = int((ROOT / ".local" / "localstack.pid").read_text())
    functions: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if not _descends_from(int(entry.name), pid):
                continue
        except OSError:
            continue
        for variable in environ:
            if variable.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
                name = variable.split(b"=", 1)[1].decode()
                functions.setdefault(name, []).append(int(entry.name))
    return functions


def memory() -> dict[str, Any]:
    """Resident memory of LocalStack (the process localstack/stack.sh started) and of each function
    process its host executor runs."""
    pid = int((ROOT / ".local" / "localstack.pid").read_text())
    functions: dict[str, list[float]] = {}
    for name, pids in function_processes().items():
        functions[name] = [_rss_mb(process) for process in pids]
    return {
        "localstack_rss_mb": _rss_mb(pid),
        "function_processes": {name: sorted(sizes) for name, sizes in sorted(functions.items())},
        "function_processes_total_mb": round(sum(sum(sizes) for sizes in functions.values()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    db_parser = commands.add_parser("prepare-db", help="create the database if missing, apply the schema")
    db_parser.add_argument("--reset", action="store_true", help="drop the database first")
    finish_parser = commands.add_parser("finish", help="after the deploy: SES sender, endpoints.json, data")
    finish_parser.add_argument("--stack", default="notify")
    url_parser = commands.add_parser("api-url", help="the deployed stack's API URL (empty if none)")
    url_parser.add_argument("--stack", default="notify")
    delete_parser = commands.add_parser("delete-stack", help="delete the stack and wait for it")
    delete_parser.add_argument("--stack", default="notify")
    demo_parser = commands.add_parser("demo", help="one event of each type, then what was delivered")
    demo_parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for deliveries")
    demo_parser.add_argument(
        "--own-events", action="store_true", help="post the built-in demo events, not the generator's"
    )
    latency_parser = commands.add_parser("latency", help="POST → e-mail, SMS and push in the stores, timed")
    latency_parser.add_argument("--runs", type=int, default=20)
    commands.add_parser("memory", help="resident memory of LocalStack and the function processes")
    args = parser.parse_args(argv)
    if args.command in {"latency", "memory"}:
        print(json.dumps(latency(args.runs) if args.command == "latency" else memory(), ensure_ascii=False))
        return 0
    if args.command == "prepare-db":
        prepare_db(reset=args.reset)
        return 0
    if args.command == "delete-stack":
        delete_stack(args.stack)
        return 0
    if args.command == "api-url":
        print(api_url(args.stack))
        return 0
    if args.command == "finish":
        finish(args.stack)
        return 0
    return demo(args.timeout, args.own_events)


if __name__ == "__main__":
    sys.exit(main())
