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

import os
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from scripts import localdev

REQUIRED = os.environ.get("NOTIFY_E2E_REQUIRED") == "1"


class Api:
    """The HTTP API through API Gateway; records what it creates so the session can remove it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.users: list[str] = []
        self.contacts: list[dict[str, Any]] = []
        self.movies: list[str] = []
        self.events: list[str] = []
        self.schedules: list[str] = []

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        status, answer = localdev.http(method, f"{self.base_url}{path}", body, headers)
        if method == "POST" and path == "/events" and status == 202:
            self.events.append(answer["event_id"])
            if answer.get("schedule_id"):
                self.schedules.append(answer["schedule_id"])
        return status, answer

    def notifications(self, event_id: str) -> list[dict[str, Any]]:
        return localdev.notifications(self.base_url, event_id)

    def wait_settled(self, event_id: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The event's notifications once none is queued, being sent or retrying any more."""
        settled = localdev.wait_for(
            lambda: localdev.settled(self.base_url, [event_id]),
            timeout=timeout,
            what=f"every notification of {event_id} past queued/sending/retrying",
        )
        return settled[event_id]


@pytest.fixture(scope="session")
def endpoints() -> dict[str, Any]:
    problem = None
    try:
        found = localdev.load_endpoints()
        status, body = localdev.http("GET", f"{found['api_url']}/health", timeout=30)
        if status != 200:
            problem = f"GET /health through API Gateway answered {status}: {body}"
    except (FileNotFoundError, OSError) as error:
        problem = f"no local stack: {error}"
    if problem:
        if REQUIRED:
            pytest.fail(problem)
        pytest.skip(f"{problem} (run `make up`, or `make e2e`)")
    return found


@pytest.fixture(scope="session")
def api(endpoints: dict[str, Any]) -> Iterator[Api]:
    api = Api(endpoints["api_url"])
    yield api
    _remove(endpoints["database_url"], api)
    localdev.forget_deliveries(api.contacts, endpoints["localstack_url"])


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
    return lambda service: localdev.aws(service, endpoints["localstack_url"], endpoints["region"])


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
    return localdev.wait_for(
        _at_least(count, lambda: localdev.emails_to(user["email"])),
        timeout=timeout,
        what=f"{count} e-mail(s) to {user['email']} in /_aws/ses",
    )


def wait_sms(user: dict[str, Any], count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The SMS to the user's phone number, once there are `count`."""
    return localdev.wait_for(
        _at_least(count, lambda: localdev.sms_messages().get(user["phone"], [])),
        timeout=timeout,
        what=f"{count} SMS to {user['phone']} in /_aws/sns/sms-messages",
    )


def wait_push(user: dict[str, Any], count: int = 1, timeout: float = 60) -> list[dict[str, Any]]:
    """The push messages to the user's device token, once there are `count`."""
    return localdev.wait_for(
        _at_least(count, lambda: localdev.push_messages().get(user["push_token"], [])),
        timeout=timeout,
        what=f"{count} push message(s) to {user['push_token']} in /_aws/sns/platform-endpoint-messages",
    )
