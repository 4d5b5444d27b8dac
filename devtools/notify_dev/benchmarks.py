"""What the benchmarks (bench/) on the deployed local stack share: the stack up (brought up when it is down),
the API key header, users and a movie put through the API in batches, events posted, rows polled
until final in the stack's database, e-mails counted per address in LocalStack's SES store, and
the clean-up of everything a run made. The HTTP, store and polling helpers are notify_dev's (devtools/).
"""

import math
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from notify_dev.api import ACCEPTED_STATUSES, PENDING_STATUSES
from notify_dev.endpoints import LOCALSTACK_URL, ROOT, api_headers, aws, load_endpoints
from notify_dev.polling import wait_for
from notify_dev.stores import forget_deliveries, ses_messages
from notify_dev.web import http

USERS_PER_PUT = 1000
# Statuses of a row that was handed to the provider: `unconfirmed` is a send whose answer was lost
# (the fault suite counts it as sent when the store holds its message).
SENT_STATUSES = ACCEPTED_STATUSES | {"unconfirmed"}


# ---- pure arithmetic (tests/unit/test_bench_stack.py) ------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 3) if baseline > 0 else 0.0


def zone_where_it_is(hour: int, now: datetime | None = None) -> str:
    """A time zone (Etc/GMT±N) where the local hour is `hour` at `now` (default: the real clock's)."""
    offset = (hour - (now or datetime.now(UTC)).astimezone(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset  # UTC-9 … UTC+14, the zones Etc/GMT has
    # Etc/GMT signs are POSIX-style, the opposite of the offset: Etc/GMT-3 is UTC+3.
    return f"Etc/GMT{-offset:+d}" if offset else "UTC"


def quiet_free_timezone(now: datetime) -> str:
    """A zone where it is about noon at `now`, so that the default quiet hours (22:00–08:00 local)
    hold nothing back for hours: the run's users need no preferences of their own."""
    return zone_where_it_is(12, now)


def delivery_counts(
    statuses: dict[str, str], emails: Counter[str], address_of: dict[str, str]
) -> dict[str, int]:
    """lost: recipients whose row is not final-and-sent or whose message is not in the store;
    duplicates: e-mails beyond the first per address; unrecorded: recipients with an e-mail whose
    row does not say it was sent."""
    lost = duplicates = unrecorded = 0
    for user_id, address in address_of.items():
        got = emails.get(address, 0)
        sent = statuses.get(user_id) in SENT_STATUSES
        lost += not (sent and got)
        duplicates += max(0, got - 1)
        unrecorded += bool(got and not sent)
    return {"lost": lost, "duplicates": duplicates, "unrecorded": unrecorded}


# ---- the stack ---------------------------------------------------------------------------------


def _api_healthy(endpoints: dict[str, Any]) -> bool:
    status, _ = http("GET", f"{endpoints['api_url']}/health", headers=api_headers(endpoints))
    return status == 200


def _localstack_answers() -> bool:
    status, _ = http("GET", f"{LOCALSTACK_URL}/_localstack/health", timeout=3)
    return status == 200


def ensure_stack() -> dict[str, Any]:
    """The endpoints of a healthy stack. When LocalStack is not running, `make up`'s script brings
    it up; a running LocalStack whose API does not answer is reported, never redeployed (someone
    else may be using it)."""
    try:
        endpoints = load_endpoints()
        if _api_healthy(endpoints):
            return endpoints
    except (FileNotFoundError, OSError):
        pass
    status = subprocess.run([ROOT / "localstack" / "stack.sh", "status"], capture_output=True, check=False)
    try:
        answers = _localstack_answers()
    except OSError:
        answers = False
    if status.returncode != 0 and not answers:
        print("bench: LocalStack is not running; bringing the stack up (scripts/local-up.sh)", flush=True)
        subprocess.run([ROOT / "scripts" / "local-up.sh"], check=True)
    endpoints = load_endpoints()
    try:
        wait_for(lambda: _api_healthy(endpoints), timeout=60, interval=1, what="GET /health")
    except TimeoutError as error:
        message = f"bench: LocalStack runs but the API does not answer ({error}); try `make up`"
        raise SystemExit(message) from error
    return endpoints


EVENT_PUBLISHING = "/_aws/ses/event-publishing"  # localstack_host_executor.ses_events


def queue_depth(sqs: Any, url: str) -> int:
    """Messages waiting in an SQS queue or taken from it and not yet deleted."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def email_events_pending(endpoints: dict[str, Any], sqs: Any) -> int:
    """SES events not yet handled: those the local SES has still to publish (its event-publishing
    hook's queue; none when LocalStack runs without the hook) and those waiting in or taken from the
    stack's feedback queue."""
    status, state = http("GET", f"{endpoints['localstack_url']}{EVENT_PUBLISHING}")
    publishing = int(state["waiting"]) + int(state["running"]) if status == 200 else 0
    return publishing + queue_depth(sqs, endpoints["queues"][f"{endpoints['queue_prefix']}-feedback"])


def settle_email_events(endpoints: dict[str, Any], timeout: float = 180) -> float:
    """Wait until the e-mail events of earlier sends are published and handled, so that a measurement
    does not pay for the one before it; the seconds waited (a warning when `timeout` passed first)."""
    sqs = aws("sqs", endpoints["localstack_url"], endpoints["region"])
    started = time.monotonic()
    while (pending := email_events_pending(endpoints, sqs)) and time.monotonic() - started < timeout:
        time.sleep(0.5)
    if pending:
        print(f"warning: {pending} e-mail events still pending after {timeout:.0f} s", flush=True)
    return time.monotonic() - started


@dataclass
class StackRun:
    """Users, a movie and events of one benchmark run on the stack; clean_up() removes them."""

    endpoints: dict[str, Any]
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    users: list[dict[str, Any]] = field(default_factory=list)
    movies: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    @property
    def api(self) -> str:
        return str(self.endpoints["api_url"])

    @property
    def dsn(self) -> str:
        return str(self.endpoints["database_url"])

    def _call(self, method: str, path: str, body: Any, expect: int) -> Any:
        status, answer = http(
            method, f"{self.api}{path}", body, headers=api_headers(self.endpoints), timeout=60
        )
        if status != expect:
            raise SystemExit(f"{method} {path} answered {status}: {answer}")
        return answer

    def put_users(self, count: int, timezone: str, kind: str = "bench") -> list[dict[str, Any]]:
        """`count` e-mail-only users, PUT /directory/users in batches of USERS_PER_PUT."""
        made = [
            {
                "user_id": str(uuid.uuid4()),
                "first_name": "Bench",
                "last_name": f"{kind}{n}",
                "email": f"{kind}-{self.tag}-{n}@bench.example",
                "locale": "en",
                "timezone": timezone,
            }
            for n in range(count)
        ]
        for start in range(0, count, USERS_PER_PUT):
            batch = made[start : start + USERS_PER_PUT]
            self.users.extend(batch)  # recorded first: a failed PUT may have stored some
            answer = self._call("PUT", "/directory/users", batch, 200)
            if answer != {"upserted": len(batch)}:
                raise SystemExit(f"PUT /directory/users: {answer}")
        return made

    def put_movie(self) -> str:
        movie_id = str(uuid.uuid4())
        self.movies.append(movie_id)
        self._call(
            "PUT",
            "/directory/movies",
            [{"movie_id": movie_id, "title": f"Bench Film {self.tag}", "season": 1, "episode": 2}],
            200,
        )
        return movie_id

    def post_event(
        self, event_type: str, priority: int, users: Sequence[dict[str, Any]], movie_id: str
    ) -> tuple[str, float]:
        """POST /events; (event id, time.monotonic() just before the request)."""
        body = {
            "event_type": event_type,
            "created_dt": datetime.now(UTC).isoformat(),
            "priority": priority,
            "payload": {"user": [u["user_id"] for u in users], "content": [movie_id]},
        }
        started = time.monotonic()
        answer = self._call("POST", "/events", body, 202)
        self.events.append(answer["event_id"])
        return answer["event_id"], started

    def statuses(self, event_id: str) -> dict[str, str]:
        """user id → status of the event's e-mail rows, read from the stack's database."""
        with psycopg.connect(self.dsn) as conn:
            rows = conn.execute(
                "SELECT user_id::text, status FROM notifications WHERE event_id = %s AND channel = 'email'",
                (event_id,),
            ).fetchall()
        return dict(rows)

    def wait_final(self, event_id: str, expected: int, timeout: float) -> tuple[float, dict[str, str]]:
        """Poll until all `expected` rows are final; (time.monotonic() then, statuses). On timeout
        the statuses so far are returned, with the time of giving up. The poll is one count on one
        connection every 0.25 s: reading every row's status on a new connection each time took a
        share of the cores the run it measures needs (a backend started four times a second)."""
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while True:
                counted = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE status = ANY(%s)) FROM notifications"
                    " WHERE event_id = %s AND channel = 'email'",
                    (sorted(PENDING_STATUSES), event_id),
                ).fetchone()
                total, pending = counted if counted else (0, 0)
                if (total >= expected and not pending) or time.monotonic() > deadline:
                    finished = time.monotonic()
                    break
                time.sleep(0.25)
        return finished, self.statuses(event_id)

    def emails_per_address(self) -> Counter[str]:
        """How many e-mails LocalStack's SES store holds for each of the run's addresses."""
        mine = {u["email"] for u in self.users}
        counts: Counter[str] = Counter()
        for mail in ses_messages(self.endpoints["localstack_url"]):
            for address in mail.get("Destination", {}).get("ToAddresses", []):
                if address in mine:
                    counts[address] += 1
        return counts

    def clean_up(self) -> None:
        """Remove the run's rows from the stack's database and its e-mails from the SES store."""
        user_ids = [u["user_id"] for u in self.users]
        statements: list[tuple[str, Iterable[str]]] = [
            ("DELETE FROM notifications WHERE event_id = ANY(%s::uuid[])", self.events),
            # published messages only: an unpublished one is still the relay's
            # by the id in the message (one pattern per event took minutes for tens of thousands)
            (
                "DELETE FROM outbox WHERE published_at IS NOT NULL"
                " AND (body::json ->> 'event_id')::uuid = ANY(%s::uuid[])",
                self.events,
            ),
            ("DELETE FROM events WHERE event_id = ANY(%s::uuid[])", self.events),
            ("DELETE FROM frequency_reservations WHERE user_id = ANY(%s::uuid[])", user_ids),
            ("DELETE FROM user_preferences WHERE user_id = ANY(%s::uuid[])", user_ids),
            ("DELETE FROM directory_users WHERE user_id = ANY(%s::uuid[])", user_ids),
            ("DELETE FROM directory_movies WHERE movie_id = ANY(%s::uuid[])", self.movies),
        ]
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                for statement, ids in statements:
                    if ids:
                        conn.execute(statement, (list(ids),))
        except psycopg.Error as error:
            print(f"bench clean-up: {error}", file=sys.stderr)
        forget_deliveries(self.users, self.endpoints["localstack_url"])
