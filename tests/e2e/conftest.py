"""End-to-end tests: the stack `make up` deployed on LocalStack, driven through API Gateway, the Lambda
API and SQS, with deliveries read back from LocalStack's SES and SNS stores.

`make e2e` (part of `make test`, and so of CI) brings the stack up first and sets NOTIFY_E2E_REQUIRED=1,
so a stack that is not there fails the run. By hand: `make up`, then `.venv/bin/python -m pytest tests/e2e`;
without a stack the tests are skipped.

Each test makes users of its own (unique addresses, phone numbers and device tokens, so a delivery is
found by its address) and the session removes its rows from the database at the end. Waits poll with a
deadline; none sleeps a fixed time.
"""

from __future__ import annotations

import email.parser
import email.utils
import functools
import os
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from notify_dev import stores
from notify_dev.api import PENDING_STATUSES, list_notifications, settled_notifications
from notify_dev.benchmarks import zone_where_it_is
from notify_dev.contract import Contract
from notify_dev.endpoints import ENDPOINTS_FILE, LOCALSTACK_URL, load_endpoints
from notify_dev.endpoints import aws as localstack_client
from notify_dev.polling import wait_for
from notify_dev.stores import emails_to, push_messages, sms_messages
from notify_dev.web import decoded, http, http_raw

REQUIRED = os.environ.get("NOTIFY_E2E_REQUIRED") == "1"
# How long after an event settled a late duplicate still counts: two of the local stack's visibility
# timeouts (5 s), so a copy of a message redelivered while the first was being sent has arrived.
GRACE_S = 10.0


class Api:
    """The HTTP API through API Gateway; records what it creates so the session can remove it."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.auth = {"Authorization": f"Bearer {api_key}"}
        self.users: list[str] = []
        self.contacts: list[dict[str, Any]] = []
        self.movies: list[str] = []
        self.events: list[str] = []
        self.schedules: list[str] = []
        self.settled_at = 0.0  # time.monotonic() when wait_settled last returned

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        # The local admin key, unless the request names an Authorization of its own ("": none).
        sent = {name: value for name, value in {**self.auth, **(headers or {})}.items() if value}
        status, answer_headers, raw = http_raw(method, f"{self.base_url}{path}", body, sent)
        # Every answer the suite gets is held against the deployed stack's own document.
        self.contract.check(method, path, status, answer_headers, raw)
        answer = decoded(raw)
        if method == "POST" and path == "/events" and status == 202:
            self.remember(answer)
        if method == "POST" and path == "/events/batch" and status == 207:
            for result in answer["results"]:
                if result["status"] == 202:
                    self.remember(result["body"])
        return status, answer

    def remember(self, accepted: dict[str, Any]) -> None:
        """An accepted event, and its schedule, to remove after the session."""
        self.events.append(accepted["event_id"])
        if accepted.get("schedule_id"):
            self.schedules.append(accepted["schedule_id"])

    @functools.cached_property
    def contract(self) -> Contract:
        status, document = http("GET", f"{self.base_url}/openapi.json")
        assert status == 200, f"GET /openapi.json answered {status}"
        return Contract(document)

    def notifications(self, event_id: str) -> list[dict[str, Any]]:
        return list_notifications(self.base_url, event_id)

    def wait_settled(self, event_id: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The event's notifications once none is queued, being sent or retrying any more."""
        settled = wait_for(
            lambda: settled_notifications(self.base_url, [event_id]),
            timeout=timeout,
            what=f"every notification of {event_id} past queued/sending/retrying",
        )
        self.settled_at = time.monotonic()
        return settled[event_id]

    def wait_channel_status(
        self, event_id: str, channel: str, status: str, timeout: float = 180
    ) -> list[dict[str, Any]]:
        """The event's notifications once its `channel` row is in `status` (feedback comes after the send)."""

        def reached() -> list[dict[str, Any]] | None:
            items = self.notifications(event_id)
            return items if any(i["channel"] == channel and i["status"] == status for i in items) else None

        return wait_for(reached, timeout=timeout, interval=0.5, what=f"the {channel} notification {status}")


@pytest.fixture(scope="session")
def endpoints() -> dict[str, Any]:
    problem = None
    try:
        found = load_endpoints()
        status, body = http("GET", f"{found['api_url']}/health", timeout=30)
        if status != 200:
            problem = f"GET /health through API Gateway answered {status}: {body}"
        elif not found.get("api_key"):
            problem = f"{ENDPOINTS_FILE} has no api_key: run `make up` again"
    except (FileNotFoundError, OSError) as error:
        problem = f"no local stack: {error}"
    if problem:
        if REQUIRED:
            pytest.fail(problem)
        pytest.skip(f"{problem} (run `make up`, or `make e2e`)")
    return found


@pytest.fixture(scope="session")
def api(endpoints: dict[str, Any]) -> Iterator[Api]:
    api = Api(endpoints["api_url"], endpoints["api_key"])
    yield api
    _remove(endpoints["database_url"], api)
    forget_deliveries(api.contacts, endpoints["localstack_url"])


def _remove(database_url: str, api: Api) -> None:
    """Delete what the session made from the stack's database (best effort)."""
    statements = [
        ("DELETE FROM notifications WHERE event_id = ANY(%s::uuid[])", api.events),
        (
            "DELETE FROM notifications WHERE event_id IN"
            " (SELECT event_id FROM events WHERE schedule_id = ANY(%s::uuid[]))",
            api.schedules,
        ),
        ("DELETE FROM events WHERE schedule_id = ANY(%s::uuid[])", api.schedules),
        ("DELETE FROM events WHERE event_id = ANY(%s::uuid[])", api.events),
        ("DELETE FROM schedules WHERE schedule_id = ANY(%s::uuid[])", api.schedules),
        ("DELETE FROM user_preferences WHERE user_id = ANY(%s::uuid[])", api.users),
        ("DELETE FROM frequency_reservations WHERE user_id = ANY(%s::uuid[])", api.users),
        ("DELETE FROM directory_users WHERE user_id = ANY(%s::uuid[])", api.users),
        ("DELETE FROM directory_movies WHERE movie_id = ANY(%s::uuid[])", api.movies),
        (
            "DELETE FROM push_endpoints WHERE token = ANY(%s::text[])",
            [c["push_token"] for c in api.contacts if c.get("push_token")],
        ),
    ]
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            for statement, ids in statements:
                if ids:
                    try:
                        conn.execute(statement, (ids,))
                    except psycopg.Error as error:
                        print(f"e2e clean-up: {statement.split(' WHERE')[0]}: {error}")
    except psycopg.Error as error:
        print(f"e2e clean-up skipped: {error}")


def unique_user(**fields: Any) -> dict[str, Any]:
    """A directory user whose contacts no other test run uses."""
    tag = uuid.uuid4().hex[:12]
    user = {
        "user_id": str(uuid.uuid4()),
        "first_name": "E2e",
        "last_name": tag,
        "email": f"e2e-{tag}@e2e.example",
        "phone": f"+1555{random.randrange(10**7, 10**8)}",
        "push_token": f"e2e-device-{tag}",
        "locale": "en",
    }
    return user | fields


def put_users(api: Api, count: int, batch: int = 1000, **fields: Any) -> list[dict[str, Any]]:
    """`count` e-mail-only users through PUT /directory/users, `batch` per request, in a time zone where
    it is 14:00 (outside the default quiet hours, so no per-user preference call is needed)."""
    users = [
        unique_user(phone=None, push_token=None, timezone=zone_where_it_is(14), **fields)
        for _ in range(count)
    ]
    for start in range(0, count, batch):
        rows = users[start : start + batch]
        status, body = api.request("PUT", "/directory/users", rows)
        assert (status, body) == (200, {"upserted": len(rows)})
        api.users.extend(u["user_id"] for u in rows)
        api.contacts.extend(rows)
    return users


@pytest.fixture
def make_users(api: Api) -> Callable[..., list[dict[str, Any]]]:
    """PUT users to the directory through the API: make_users(2) or make_users(phone=None).

    Their quiet hours are turned off (PUT /users/{id}/preferences), so that what the tests send goes
    out at any time of day; make_users(quiet_hours=True) keeps the default ones."""

    def make(count: int = 1, quiet_hours: bool = False, **fields: Any) -> list[dict[str, Any]]:
        users = [unique_user(**fields) for _ in range(count)]
        status, body = api.request("PUT", "/directory/users", users)
        assert (status, body) == (200, {"upserted": count})
        api.users.extend(u["user_id"] for u in users)
        api.contacts.extend(users)
        if not quiet_hours:
            for user in users:
                status, body = api.request(
                    "PUT", f"/users/{user['user_id']}/preferences", {"quiet_hours": None}
                )
                assert status == 200, body
                assert body["quiet_hours"] is None
        return users

    return make


@pytest.fixture(scope="session")
def movie(api: Api) -> dict[str, Any]:
    movie = {
        "movie_id": str(uuid.uuid4()),
        "title": f"E2E Film {uuid.uuid4().hex[:6]}",
        "season": 2,
        "episode": 5,
    }
    status, body = api.request("PUT", "/directory/movies", [movie])
    assert (status, body) == (200, {"upserted": 1})
    api.movies.append(str(movie["movie_id"]))
    return movie


def event(
    event_type: str, users: list[dict[str, Any]], movie: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "created_dt": datetime.now(UTC).isoformat(),
        "payload": {"user": [u["user_id"] for u in users], "content": [movie["movie_id"]]},
        **fields,
    }


@pytest.fixture(scope="session")
def aws(endpoints: dict[str, Any]) -> Callable[[str], Any]:
    return lambda service: localstack_client(service, endpoints["localstack_url"], endpoints["region"])


# ---- what LocalStack says was delivered ---------------------------------------------------------


def _at_least(
    count: int, probe: Callable[[], list[dict[str, Any]]]
) -> Callable[[], list[dict[str, Any]] | None]:
    def check() -> list[dict[str, Any]] | None:
        found = probe()
        return found if len(found) >= count else None

    return check


def wait_email(user: dict[str, Any], count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The e-mails to the user's address, once there are `count`."""
    return wait_for(
        _at_least(count, lambda: emails_to(user["email"])),
        timeout=timeout,
        what=f"{count} e-mail(s) to {user['email']} in /_aws/ses",
    )


def wait_sms(user: dict[str, Any], count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The SMS to the user's phone number, once there are `count`."""
    return wait_for(
        _at_least(count, lambda: sms_messages().get(user["phone"], [])),
        timeout=timeout,
        what=f"{count} SMS to {user['phone']} in /_aws/sns/sms-messages",
    )


def wait_push(user: dict[str, Any], count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The push messages to the user's device token, once there are `count`."""
    return wait_for(
        _at_least(count, lambda: push_messages().get(user["push_token"], [])),
        timeout=timeout,
        what=f"{count} push message(s) to {user['push_token']} in /_aws/sns/platform-endpoint-messages",
    )


# ---- counting deliveries: once each, after settlement and a grace period -----------------------

CONTACT = {"email": "email", "sms": "phone", "push": "push_token"}
_TO = re.compile(r"^To:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.MULTILINE | re.IGNORECASE)


def _email_recipients(message: dict[str, Any]) -> list[str]:
    """A stored e-mail's recipients, read from the raw message's To: header only (fast enough for
    tens of thousands of messages, which ses_messages' full MIME parse is not)."""
    raw = message.get("RawData")
    if not raw:
        return list(message.get("Destination", {}).get("ToAddresses", []))
    head = raw.split("\n\n", 1)[0].split("\r\n\r\n", 1)[0]
    found = _TO.search(head)
    if found is None:
        return []
    value = str(email.parser.HeaderParser().parsestr(f"To: {found.group(1)}\n\n")["To"] or "")
    return [address for _, address in email.utils.getaddresses([value]) if address]


def delivery_counts(
    channel: str, contacts: Iterable[str], localstack_url: str = LOCALSTACK_URL
) -> Counter[str]:
    """How many messages LocalStack's store holds for each contact (address, phone number or device
    token) on `channel`; one read of the store."""
    wanted = set(contacts)
    counts: Counter[str] = Counter()
    if channel == "email":
        _, body = http("GET", f"{localstack_url}/_aws/ses", timeout=120)
        for message in body.get("messages", []) if isinstance(body, dict) else []:
            for address in _email_recipients(message):
                if address in wanted:
                    counts[address] += 1
        return counts
    stored = sms_messages(localstack_url) if channel == "sms" else push_messages(localstack_url)
    for contact, messages in stored.items():
        if contact in wanted:
            counts[contact] += len(messages)
    return counts


def counts_after_grace(
    users: list[dict[str, Any]], channels: Iterable[str], settled_at: float, grace_s: float = GRACE_S
) -> dict[str, Counter[str]]:
    """Per channel, the users' messages in LocalStack's stores, counted once `grace_s` has passed since
    `settled_at` (time.monotonic() when their events settled): a late duplicate is then counted."""
    time.sleep(max(0.0, settled_at + grace_s - time.monotonic()))
    return {
        channel: delivery_counts(channel, [u[CONTACT[channel]] for u in users if u.get(CONTACT[channel])])
        for channel in channels
    }


def assert_delivered_once(
    api: Api, users: list[dict[str, Any]], channels: Iterable[str] = ("email",)
) -> None:
    """Exactly one message per user and channel, counted a grace period after the last settlement
    (Api.wait_settled) instead of at the first arrival."""
    channels = list(channels)
    counts = counts_after_grace(users, channels, api.settled_at)
    wrong = {
        (channel, user[CONTACT[channel]]): counts[channel][user[CONTACT[channel]]]
        for channel in channels
        for user in users
        if user.get(CONTACT[channel]) and counts[channel][user[CONTACT[channel]]] != 1
    }
    assert not wrong, f"not exactly one message after a {GRACE_S:g} s grace period: {wrong}"


def forget_deliveries(users: list[dict[str, Any]], localstack_url: str = LOCALSTACK_URL) -> None:
    """forget_deliveries, with the e-mails found by their To: header and deleted 8 at a time
    (a test with ten thousand recipients leaves ten thousand)."""
    addresses = {u["email"] for u in users if u.get("email")}
    if addresses:
        _, body = http("GET", f"{localstack_url}/_aws/ses", timeout=120)
        ids = [
            m["Id"]
            for m in (body.get("messages", []) if isinstance(body, dict) else [])
            if addresses & set(_email_recipients(m))
        ]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: http("DELETE", f"{localstack_url}/_aws/ses?id={i}"), ids))
    others = [{**u, "email": None} for u in users if u.get("phone") or u.get("push_token")]
    if others:
        stores.forget_deliveries(others, localstack_url)


# ---- rows in the stack's database ---------------------------------------------------------------


def row_statuses(database_url: str, event_ids: list[str], channel: str | None = None) -> dict[str, int]:
    """How many of the events' notification rows (on `channel`, when given) are in each status."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM notifications WHERE event_id = ANY(%s::uuid[])"
            " AND (%s::text IS NULL OR channel = %s) GROUP BY status",
            (event_ids, channel, channel),
        ).fetchall()
    return {status: count for status, count in rows}


def settle_rows(
    database_url: str,
    event_ids: list[str],
    timeout: float,
    *,
    stall_s: float | None = None,
    meanwhile: Callable[[], None] | None = None,
    every_s: float = 15,
    interval: float = 0.5,
    pending: frozenset[str] = PENDING_STATUSES,
) -> tuple[float, dict[str, int]]:
    """Wait until no row of the events is `pending` (queued, sending or retrying), or `timeout` passed,
    or (with `stall_s`) no row became final for that long; `meanwhile` runs every `every_s`. Answers
    (time.monotonic() at the end, the statuses then); the caller judges them."""
    start = time.monotonic()
    next_call = start + every_s
    last_final, last_progress = -1, start
    while True:
        counts = row_statuses(database_url, event_ids)
        now = time.monotonic()
        unfinished = sum(n for status, n in counts.items() if status in pending)
        final = sum(counts.values()) - unfinished
        if final != last_final:
            last_final, last_progress = final, now
        if counts and not unfinished:
            return now, counts
        if now - start > timeout or (stall_s is not None and now - last_progress > stall_s):
            return now, counts
        if meanwhile is not None and now > next_call:
            meanwhile()
            next_call = now + every_s
        time.sleep(interval)


# ---- lines for the terminal summary (shown whatever -s says) ------------------------------------

_LINES = pytest.StashKey[list[tuple[str, str]]]()


def report_line(config: pytest.Config, section: str, line: str) -> None:
    config.stash.setdefault(_LINES, []).append((section, line))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    lines, config.stash[_LINES] = config.stash.get(_LINES, []), []
    for section in dict.fromkeys(section for section, _ in lines):
        terminalreporter.section(section)
        for name, line in lines:
            if name == section:
                terminalreporter.write_line(line)
