"""The fault suite: each scenario breaks something on the deployed local stack (a sender process, the
database connections, the provider, the broker, the outbox) while one event is delivered, then counts
what its recipients got once the event settled and a grace period passed. Each prints one line

    faults: <scenario>: recipients N, sent N, lost 0, duplicates D

in pytest's terminal summary (whatever -s says). A recipient is sent when its row is final and
`sent` or `unconfirmed` and LocalStack's store holds its message; lost is every other recipient;
duplicates are the messages beyond the first per recipient in the store.

`make e2e` (and so `make test` and CI) runs it after tests/e2e, on the same stack. By hand:
`make up`, then `NOTIFY_E2E_REQUIRED=1 .venv/bin/python -m pytest -m faults tests/faults`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from notify_dev.api import ACCEPTED_STATUSES, PENDING_STATUSES
from notify_dev.endpoints import aws
from tests.e2e import conftest as e2e
from tests.e2e.conftest import (
    Api,
    _remove,
    counts_after_grace,
    event,
    forget_deliveries,
    put_users,
    report_line,
    row_statuses,
    settle_rows,
)
from tests.faults import stack

# the session fixtures of tests/e2e, shared (the suite removes what it made at the end)
endpoints = e2e.endpoints
api = e2e.api
movie = e2e.movie

FINAL_SENT = ACCEPTED_STATUSES | {"unconfirmed"}
# Not settled yet: the scenarios' users are outside quiet hours, so a `deferred` row is one whose
# provider failed for now, waiting for the tick to queue it again.
STILL_GOING = PENDING_STATUSES | {"deferred"}


@dataclass
class Result:
    scenario: str
    recipients: int
    sent: int
    lost: int
    duplicates: int
    statuses: dict[str, int] = field(default_factory=dict)
    settle_s: float = 0.0
    # what the rows of lost recipients say (status, reason, error), to tell the cause from the log
    lost_rows: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def line(self) -> str:
        return (
            f"faults: {self.scenario}: recipients {self.recipients}, sent {self.sent}, "
            f"lost {self.lost}, duplicates {self.duplicates}"
        )

    def __str__(self) -> str:
        lost = f"; lost rows (status, reason, error): {self.lost_rows[:5]}" if self.lost_rows else ""
        return f"{self.line} (row statuses {self.statuses}, settled in {self.settle_s:.0f} s){lost}"


class Faults:
    """One scenario's users, events and clean-up, and the accounting that ends it."""

    def __init__(self, endpoints: dict[str, Any], movie: dict[str, Any], config: pytest.Config) -> None:
        self.endpoints = endpoints
        self.movie = movie
        self.api = Api(endpoints["api_url"], endpoints["api_key"])
        self.database_url: str = endpoints["database_url"]
        self.lambda_ = aws("lambda", endpoints["localstack_url"], endpoints["region"])
        self.functions: dict[str, str] = endpoints["functions"]
        self._config = config

    def users(self, count: int) -> list[dict[str, Any]]:
        return put_users(self.api, count)

    def post(self, users: list[dict[str, Any]], **fields: Any) -> tuple[int, Any]:
        fields.setdefault("priority", 8)
        return self.api.request("POST", "/events", event("new_episode", users, self.movie, **fields))

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def statuses(self, event_ids: list[str]) -> dict[str, int]:
        return row_statuses(self.database_url, event_ids)

    def event_of(self, user: dict[str, Any]) -> str | None:
        """The event a user's row belongs to (when POST /events did not answer with its id)."""
        rows = self.sql(
            "SELECT event_id::text FROM notifications WHERE user_id = %s LIMIT 1", (user["user_id"],)
        )
        return rows[0][0] if rows else None

    def settle(
        self,
        event_ids: list[str],
        timeout: float,
        tick: bool = True,
        pending: frozenset[str] = STILL_GOING,
    ) -> tuple[float, dict[str, int]]:
        """Wait until no row of the events is queued, sending or retrying (or `timeout`, or 90 s in which
        no row became final: a lease, a redelivery and a tick sweep all fit in that); meanwhile, with
        `tick`, the tick runs every 15 s as well as on the EventBridge minute (its sweeps sooner, not
        another path)."""
        return settle_rows(
            self.database_url,
            event_ids,
            timeout,
            stall_s=90,
            pending=pending,
            meanwhile=lambda: (
                stack.invoke_tick(self.lambda_, self.endpoints["tick_function"]) if tick else None
            ),
        )

    def account(
        self,
        scenario: str,
        users: list[dict[str, Any]],
        event_ids: list[str],
        settle_timeout: float = 120,
        tick: bool = True,
        pending: frozenset[str] = STILL_GOING,
    ) -> Result:
        """Settle, wait the grace period, count; the scenario's line goes to the terminal summary."""
        started = time.monotonic()
        event_ids = [e for e in event_ids if e]
        settled_at, _ = (
            self.settle(event_ids, settle_timeout, tick, pending) if event_ids else (time.monotonic(), {})
        )
        counts = counts_after_grace(users, ["email"], settled_at)["email"]
        rows = self.sql(
            "SELECT user_id::text, status, reason, error FROM notifications"
            " WHERE event_id = ANY(%s::uuid[]) AND channel = 'email'",
            (event_ids,),
        )
        status_of = {user_id: status for user_id, status, _, _ in rows}
        details = {user_id: (status, reason, error) for user_id, status, reason, error in rows}
        statuses: dict[str, int] = {}
        for status in status_of.values():
            statuses[status] = statuses.get(status, 0) + 1
        arrived = {
            u["user_id"]
            for u in users
            if status_of.get(u["user_id"]) in FINAL_SENT and counts[u["email"]] >= 1
        }
        lost_rows = [
            details.get(u["user_id"], ("no row", None, None)) for u in users if u["user_id"] not in arrived
        ]
        duplicates = sum(max(0, counts[u["email"]] - 1) for u in users)
        result = Result(
            scenario,
            len(users),
            len(arrived),
            len(users) - len(arrived),
            duplicates,
            statuses,
            settled_at - started,
            lost_rows,
        )
        report_line(self._config, "fault suite", result.line)
        print(result)
        return result

    def clean_up(self) -> None:
        for event_id in self.api.events:
            self.sql("DELETE FROM outbox WHERE position(%s in body) > 0", (event_id,))
        _remove(self.database_url, self.api)
        forget_deliveries(self.api.contacts, self.endpoints["localstack_url"])


@pytest.fixture
def faults(
    endpoints: dict[str, Any], movie: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[Faults]:
    scenario = Faults(endpoints, movie, request.config)
    yield scenario
    scenario.clean_up()


pytest_terminal_summary = e2e.pytest_terminal_summary


def check(result: Result, allowed_duplicates: int = 0, context: object = "") -> None:
    """The scenario's verdict: nobody lost, no more duplicates than the fault can explain. `context`
    (a proxy's counts, say) goes into the message, to tell a failure's cause from CI's log."""
    assert result.lost == 0, f"{result} {context}"
    assert result.duplicates <= allowed_duplicates, f"{result}: at most {allowed_duplicates} allowed"
