"""`sam local`: every function in a Lambda python3.13 container (localstack/sam-api.sh), against the
stack `make up` runs.

* `sam local invoke` of each function with its sample event from events/: the API on a scratch database
  and a RabbitMQ queue prefix of its own (nothing reaches the stack's queues), the senders delivering into
  LocalStack's SES/SNS stores, the tick.
* `sam local start-api`: a POST ends in deliveries by the stack's senders on LocalStack, and bad input
  gets the same status and body as through API Gateway.

The session prepares what `sam local` needs (Docker engine, base image, forwarders, `sam build`) with
localstack/sam-api.sh, starts the API unless `make api` already runs it, and stops what it started.
Under `make e2e` (NOTIFY_E2E_REQUIRED=1) a failure to prepare fails the tests; by hand it skips them.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pika
import psycopg
import pytest
from psycopg.types.json import Jsonb

from notify.adapters.postgres import PostgresStore
from notify.channels import all_queue_names
from notify_dev.api import as_sent
from notify_dev.endpoints import aws, load_endpoints
from notify_dev.scratch import RABBITMQ_URL, scratch_database, scratch_queue_prefix
from notify_dev.stores import push_messages, ses_messages, sms_messages
from notify_dev.web import http
from tests.e2e.conftest import REQUIRED, Api, assert_delivered_once, event, wait_email, wait_push, wait_sms
from tests.fakes.keys import add_sample_key

# The first test also waits for what the session prepares: on a new machine the Docker engine's install
# and the image's build (~1 min) come on top of the test itself.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
SAM_API = ROOT / "localstack" / "sam-api.sh"
DOCKER = ROOT / "localstack" / "docker.sh"
SAM_LOCAL_PY = ROOT / "localstack" / "sam_local.py"
SAM = ROOT / ".local" / "sam-venv" / "bin" / "sam"
TEMPLATE = ROOT / ".local" / "sam-api" / "template.yaml"
EVENTS = ROOT / "events"
PORT = int(os.environ.get("NOTIFY_E2E_SAM_PORT", "3000"))


def _run(args: list[str | Path], timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False, **kw
    )


def _give_up(problem: str) -> None:
    if REQUIRED:
        pytest.fail(problem)
    pytest.skip(problem)


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 25) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-lines:])


def _engine_answers() -> bool:
    try:
        return _run(["docker", "info"], timeout=30).returncode == 0
    except FileNotFoundError:
        return False


@dataclass
class SamLocal:
    host: str  # where containers reach the host's services
    localstack_url: str

    def env(self) -> dict[str, str]:
        """The environment localstack/sam-api.sh gives the SAM CLI."""
        env = {k: v for k, v in os.environ.items() if k not in {"AWS_PROFILE", "AWS_ENDPOINT_URL"}}
        return env | {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_ENDPOINT_URL_STS": self.localstack_url,
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAM_CLI_TELEMETRY": "0",
        }

    def invoke(self, function: str, event_name: str, env_file: Path) -> Any:
        """`sam local invoke FUNCTION --event events/EVENT.json`: the function's result."""
        proc = _run(
            [
                SAM,
                "local",
                "invoke",
                function,
                "--template",
                TEMPLATE,
                "--env-vars",
                env_file,
                "--event",
                _event_path(event_name),
                "--skip-pull-image",
                "--container-host",
                "127.0.0.1",
                "--container-host-interface",
                "127.0.0.1",
            ],
            timeout=300,
            cwd=ROOT,
            env=self.env(),
        )
        assert proc.returncode == 0, _tail(proc)
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"sam local invoke {function} printed no JSON result:\n{_tail(proc)}")


@pytest.fixture(scope="session")
def sam_local(endpoints: dict[str, Any]) -> Iterator[SamLocal]:
    """Everything `sam local` needs, prepared once; the engine is stopped at the end if it was not running."""
    engine_was_up = _engine_answers()
    proc = _run([SAM_API, "prepare"], timeout=1500)
    if proc.returncode != 0:
        if not engine_was_up:
            _run([DOCKER, "stop"])
        _give_up(f"localstack/sam-api.sh prepare exited {proc.returncode}:\n{_tail(proc)}")
    host = _run([DOCKER, "host"]).stdout.strip()
    try:
        yield SamLocal(host=host, localstack_url=endpoints["localstack_url"])
    finally:
        if not engine_was_up:
            _run([DOCKER, "stop"], timeout=120)


@pytest.fixture(scope="session")
def sam_api(sam_local: SamLocal, endpoints: dict[str, Any]) -> Iterator[Api]:
    """The API through `sam local start-api`: the one `make api` runs, else one started here."""
    running = load_endpoints().get("sam_api_url")
    if running and http("GET", f"{running}/health", timeout=30)[0] == 200:
        yield Api(running, endpoints["api_key"])
        return
    proc = _run([SAM_API, "start"], timeout=600, env=os.environ | {"SAM_API_PORT": str(PORT)})
    if proc.returncode != 0:
        _give_up(f"localstack/sam-api.sh start exited {proc.returncode}:\n{_tail(proc)}")
    try:
        yield Api(load_endpoints()["sam_api_url"], endpoints["api_key"])
    finally:
        _run([SAM_API, "stop-api"], timeout=120)


# ---- sam local invoke with the sample events ----------------------------------------------------


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads(_event_path(name).read_text()))


def _fresh(sample: dict[str, Any]) -> dict[str, Any]:
    """The sample SQS batch as if its messages were sent now. The samples are dated, and the
    send path expires stale notifications; the push sample's like would also wait for its
    digest window, so it goes out as a new-episode push (same channel, sent at once)."""
    for record in sample["Records"]:
        body = json.loads(record["body"])
        body["created_dt"] = _NOW.isoformat()
        if body["event_type"] == "comment_liked":
            body["event_type"], body["priority"] = "new_episode", 7
        record["body"] = json.dumps(body)
    return sample


_NOW = datetime.now(UTC)
_FRESH_EVENTS = Path(tempfile.mkdtemp(prefix="notify-sam-events-"))


def _event_path(name: str) -> Path:
    if not name.startswith("sqs_"):
        return EVENTS / f"{name}.json"
    fresh = _FRESH_EVENTS / f"{name}.json"
    if not fresh.exists():
        fresh.write_text(json.dumps(_fresh(json.loads((EVENTS / f"{name}.json").read_text()))))
    return fresh


def _messages(channel: str) -> list[dict[str, Any]]:
    return [json.loads(record["body"]) for record in _sample(f"sqs_{channel}")["Records"]]


@dataclass
class Scratch:
    dsn: str
    queue_prefix: str
    env_file: Path


def _seed(dsn: str) -> None:
    """The directory rows and notification rows the sample events refer to.

    Users and the movie come from the SQS samples' payloads (the same ids the API sample posts); each SQS
    record's recipients get a queued notification row of their event, so the senders have work to claim.
    """
    store = PostgresStore(dsn, 1)
    try:
        store.migrate()
        add_sample_key(store, datetime.now(UTC))  # the key the API samples carry
    finally:
        store.close()
    messages = [m for channel in ("email", "sms", "push") for m in _messages(channel)]
    users: dict[str, dict[str, Any]] = {}
    for message in messages:
        for user in message["payload"]["user"]:
            known = users.setdefault(user["user_id"], {})
            known.update({k: v for k, v in user.items() if v is not None})
    movies = {c["movie_id"]: c for m in messages for c in m["payload"]["content"]}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for u in users.values():
            conn.execute(
                "INSERT INTO directory_users"
                " (user_id, first_name, email, phone, push_token, locale, timezone)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    u["user_id"],
                    u.get("first_name"),
                    u.get("email"),
                    u.get("phone"),
                    u.get("push_token"),
                    u.get("locale", "en"),
                    u.get("timezone", "UTC"),
                ),
            )
        for m in movies.values():
            conn.execute(
                "INSERT INTO directory_movies (movie_id, title, season, episode, release_date)"
                " VALUES (%s, %s, %s, %s, %s)",
                (m["movie_id"], m["title"], m.get("season"), m.get("episode"), m.get("release_date")),
            )
        events = {m["event_id"]: m for m in messages}
        for e in events.values():
            conn.execute(
                "INSERT INTO events (event_id, event_type, created_dt, priority, status, content)"
                " VALUES (%s, %s, %s, %s, 'queued', %s)",
                (
                    e["event_id"],
                    e["event_type"],
                    e["created_dt"],
                    e["priority"],
                    Jsonb(e["payload"]["content"]),
                ),
            )
        for message in messages:
            for user in message["payload"]["user"]:
                conn.execute(
                    "INSERT INTO notifications (event_id, channel, user_id) VALUES (%s, %s, %s)",
                    (message["event_id"], message["transport_type"], user["user_id"]),
                )


@pytest.fixture(scope="module")
def scratch(
    sam_local: SamLocal, endpoints: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scratch]:
    with scratch_database("notify_samlocal") as dsn, scratch_queue_prefix("sam") as prefix:
        _seed(dsn)
        proc = _run(
            [
                ROOT / ".venv" / "bin" / "python",
                SAM_LOCAL_PY,
                "env-vars",
                "--host",
                sam_local.host,
                "--database-url",
                dsn,
                "--broker",
                "rabbitmq",
                "--queue-prefix",
                prefix,
            ]
        )
        assert proc.returncode == 0, _tail(proc)
        env_file = tmp_path_factory.mktemp("sam-local") / "env.json"
        env_file.write_text(proc.stdout)
        # SES refuses an unverified sender (`make up` verifies it; harmless twice).
        aws("ses", endpoints["localstack_url"]).verify_email_identity(EmailAddress=endpoints["email_sender"])
        yield Scratch(dsn, prefix, env_file)


def _body(result: dict[str, Any]) -> Any:
    return json.loads(result["body"])


def _queued(queue_prefix: str) -> int:
    """Messages waiting in the prefix's RabbitMQ queues."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        return sum(
            channel.queue_declare(name, passive=True).method.message_count
            for name in all_queue_names(queue_prefix)
        )
    finally:
        connection.close()


def _statuses(dsn: str) -> dict[tuple[str, str, str], str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT event_id, channel, user_id, status FROM notifications").fetchall()
    return {(str(e), c, str(u)): s for e, c, u, s in rows}


def test_invoke_ingest_health(sam_local: SamLocal, scratch: Scratch) -> None:
    result = sam_local.invoke("IngestFunction", "api_health", scratch.env_file)
    assert result["statusCode"] == 200, result
    health = _body(result)
    assert (health["status"], health["database"], health["broker"]) == ("ok", "ok", "ok")
    assert isinstance(health["outbox"]["parked"], int)


def test_invoke_ingest_post_event_fans_out_and_publishes(sam_local: SamLocal, scratch: Scratch) -> None:
    sample = _sample("api_post_event")
    request = json.loads(sample["body"])

    result = sam_local.invoke("IngestFunction", "api_post_event", scratch.env_file)

    assert result["statusCode"] == 202, result
    accepted = _body(result)
    assert accepted["status"] == "queued"
    assert accepted["recipients"] == len(request["payload"]["user"])
    assert accepted["notifications"] >= accepted["recipients"]
    assert _queued(scratch.queue_prefix) >= 1  # published to the scratch prefix's queues

    again = sam_local.invoke("IngestFunction", "api_post_event", scratch.env_file)  # same Idempotency-Key
    assert _body(again)["event_id"] == accepted["event_id"]


def test_invoke_ingest_get_event(sam_local: SamLocal, scratch: Scratch) -> None:
    event_id = _sample("api_get_event")["pathParameters"]["event_id"]

    result = sam_local.invoke("IngestFunction", "api_get_event", scratch.env_file)

    assert result["statusCode"] == 200, result
    view = _body(result)
    assert view["event_id"] == event_id
    assert sum(view["counts"].values()) == sum(1 for key in _statuses(scratch.dsn) if key[0] == event_id)


def test_invoke_ingest_put_directory(sam_local: SamLocal, scratch: Scratch) -> None:
    for name in ("api_put_users", "api_put_movies"):
        rows = json.loads(_sample(name)["body"])

        result = sam_local.invoke("IngestFunction", name, scratch.env_file)

        assert result["statusCode"] == 200, result
        assert _body(result) == {"upserted": len(rows)}


def test_invoke_ingest_list_notifications_and_schedules(sam_local: SamLocal, scratch: Scratch) -> None:
    event_id = _sample("api_list_notifications")["pathParameters"]["event_id"]

    page = sam_local.invoke("IngestFunction", "api_list_notifications", scratch.env_file)

    assert page["statusCode"] == 200, page
    rows = {(u, c) for (e, c, u) in _statuses(scratch.dsn) if e == event_id}
    assert {(i["user_id"], i["channel"]) for i in _body(page)["items"]} == rows
    schedules = sam_local.invoke("IngestFunction", "api_list_schedules", scratch.env_file)
    assert schedules["statusCode"] == 200, schedules
    assert _body(schedules) == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("function", "channel"),
    [("SendEmailFunction", "email"), ("SendSmsFunction", "sms"), ("SendPushFunction", "push")],
)
def test_invoke_sender_delivers_the_batch(
    sam_local: SamLocal, scratch: Scratch, endpoints: dict[str, Any], function: str, channel: str
) -> None:
    url = endpoints["localstack_url"]
    messages = _messages(channel)
    recipients = [(m["event_id"], channel, u["user_id"]) for m in messages for u in m["payload"]["user"]]
    contact = {"email": "email", "sms": "phone", "push": "push_token"}[channel]
    addresses = sorted(u[contact] for m in messages for u in m["payload"]["user"])

    def delivered() -> list[str]:
        if channel == "email":
            return sorted(a for m in ses_messages(url) for a in m["Destination"]["ToAddresses"])
        found = sms_messages(url) if channel == "sms" else push_messages(url)
        return sorted(a for a, ms in found.items() for _ in ms)

    before = delivered()
    result = sam_local.invoke(function, f"sqs_{channel}", scratch.env_file)

    assert result == {"batchItemFailures": []}
    statuses = _statuses(scratch.dsn)
    assert [as_sent(statuses[r]) for r in recipients] == ["sent"] * len(recipients)
    after = delivered()
    for address in addresses:  # one more message to each recipient in LocalStack's store
        assert after.count(address) == before.count(address) + addresses.count(address), address


def test_invoke_tick(sam_local: SamLocal, scratch: Scratch) -> None:
    result = sam_local.invoke("TickFunction", "tick", scratch.env_file)

    assert "errorType" not in result, result
    assert result["occurrences_sent"] == 0  # the scratch database has no schedule
    assert all(isinstance(v, int) for v in result.values()), result


# ---- sam local start-api against the stack --------------------------------------------------------


def test_post_through_sam_local_is_delivered_by_the_stack(
    sam_api: Api, api: Api, make_users: Any, movie: dict[str, Any]
) -> None:
    [user] = make_users()

    status, accepted = sam_api.request("POST", "/events", event("new_episode", [user], movie, priority=8))

    assert status == 202, accepted
    api.events.append(accepted["event_id"])  # the session removes it
    assert (accepted["status"], accepted["recipients"], accepted["notifications"]) == ("queued", 1, 3)
    [mail] = wait_email(user)
    assert movie["title"] in mail["Subject"]
    wait_sms(user)
    wait_push(user)
    items = api.wait_settled(accepted["event_id"])
    assert sorted((i["channel"], as_sent(i["status"])) for i in items) == [
        ("email", "sent"),
        ("push", "sent"),
        ("sms", "sent"),
    ]
    assert_delivered_once(api, [user], ("email", "sms", "push"))
    # the same event read through both
    assert sam_api.request("GET", f"/events/{accepted['event_id']}") == api.request(
        "GET", f"/events/{accepted['event_id']}"
    )


def _bad_requests(user: dict[str, Any], movie: dict[str, Any]) -> list[tuple[str, str, Any, dict[str, str]]]:
    good = event("new_episode", [user], movie)
    return [
        ("POST", "/events", b'{"event_type": "new_episode",', {"Content-Type": "application/json"}),
        ("POST", "/events", good | {"event_type": "no_such_type"}, {}),
        ("POST", "/events", good | {"priority": 10}, {}),
        ("POST", "/events", good | {"unexpected": 1}, {}),
        ("POST", "/events", event("new_episode", [user], {"movie_id": str(uuid.uuid4())}), {}),
        ("POST", "/events", good, {"Idempotency-Key": "x" * 201}),
        ("GET", f"/events/{uuid.uuid4()}", None, {}),
        ("GET", "/events/not-a-uuid", None, {}),
        ("GET", f"/events/{uuid.uuid4()}/notifications?limit=0", None, {}),
        ("PUT", "/directory/users", [{"user_id": "not-a-uuid"}], {}),
        ("PUT", "/directory/movies", [{"movie_id": str(uuid.uuid4())}], {}),
        ("GET", "/schedules?limit=5000", None, {}),
        ("GET", f"/schedules/{uuid.uuid4()}", None, {}),
        ("GET", "/no-such-route", None, {}),  # API Gateway's 403 "Missing Authentication Token"
        ("DELETE", "/events", None, {}),
        ("GET", f"/events/{uuid.uuid4()}", None, {"Authorization": ""}),  # 401: no key
        ("POST", "/events", good, {"Authorization": "Bearer nk_0123456789ab_" + "x" * 43}),  # 401
        ("GET", "/keys", None, {"Authorization": "Basic dXNlcjpwYXNz"}),  # 401: not Bearer
    ]


def test_bad_input_gets_the_same_answer_as_through_api_gateway(
    sam_api: Api, api: Api, make_users: Any, movie: dict[str, Any]
) -> None:
    [user] = make_users()
    differences = []
    for method, path, body, headers in _bad_requests(user, movie):
        through_gateway = api.request(method, path, body, headers)
        through_sam = sam_api.request(method, path, body, headers)
        assert 400 <= through_gateway[0] < 500, (method, path, through_gateway)
        if through_sam != through_gateway:
            differences.append((method, path, through_gateway, through_sam))
    assert differences == []


def test_idempotency_conflict_is_shared_by_both(
    sam_api: Api, api: Api, make_users: Any, movie: dict[str, Any]
) -> None:
    [user] = make_users()
    key = f"sam-local-{uuid.uuid4()}"
    first = event("new_episode", [user], movie, created_dt=datetime.now(UTC).isoformat())

    status, accepted = api.request("POST", "/events", first, {"Idempotency-Key": key})
    assert status == 202, accepted

    replay = sam_api.request("POST", "/events", first, {"Idempotency-Key": key})
    assert replay[0] == 202, replay
    assert replay[1]["event_id"] == accepted["event_id"]
    changed = first | {"priority": 9}
    assert sam_api.request("POST", "/events", changed, {"Idempotency-Key": key}) == api.request(
        "POST", "/events", changed, {"Idempotency-Key": key}
    )
    assert sam_api.request("POST", "/events", changed, {"Idempotency-Key": key})[0] == 409
