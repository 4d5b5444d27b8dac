"""worker-crash: the RabbitMQ worker (`python -m notify.entrypoints.worker`, a real subprocess) is
SIGKILLed every time it sends one poison recipient's e-mail, and restarted as a supervisor would.

The kill comes from the fault proxy in front of SES, the moment the worker's send for that address
arrives (the proxy neither forwards nor answers it): a message that crashes its worker every time.
Each crash returns the message to its quorum queue; back in a worker it finds its recipient still
leased by the dead one and goes to a delay queue with its attempt counted, so the crashes spend the
message's attempts, and after the last it is dead-lettered. Meanwhile every other message is
delivered, exactly once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from notify.channels import DEAD_LETTER_SUFFIX, all_queue_names
from notify_dev.benchmarks import zone_where_it_is
from notify_dev.scratch import amqp_channel
from tests.e2e.conftest import counts_after_grace, event, report_line, row_statuses, unique_user
from tests.e2e.rabbit import MOVIE, WorkerProcess, post, rabbit_stack
from tests.faults.conftest import Result, check
from tests.faults.proxy import FaultPolicy, FaultProxy

pytestmark = pytest.mark.faults

MAX_ATTEMPTS = 5  # the service's default NOTIFY_MAX_RECEIVES, the worker's attempt budget


def _dead_lettered(prefix: str) -> list[bytes]:
    """The bodies in the prefix's dead-letter queues, read without taking them."""
    found: list[bytes] = []
    with amqp_channel() as channel:
        for queue in all_queue_names(prefix):
            while True:
                method, _, body = channel.basic_get(queue + DEAD_LETTER_SUFFIX, auto_ack=False)
                if method is None:
                    break
                found.append(body)
    return found  # unacknowledged: they went back when the connection closed


def test_worker_crash(endpoints: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # A normal-tier event: its users live where it is afternoon, or from 22:00 UTC quiet hours would
    # defer every row and nothing would be sent (seen in a CI rehearsal at 23:0x UTC).
    afternoon = zone_where_it_is(14)
    poison = unique_user(timezone=afternoon)
    others = [unique_user(timezone=afternoon) for _ in range(30)]
    with rabbit_stack(endpoints, [poison, *others]) as stack:
        worker: WorkerProcess | None = None

        def crash_on_poison(fields: dict[str, list[str]]) -> bool:
            if poison["email"] not in fields.get("Destinations.member.1", []):
                return False
            assert worker is not None
            worker.kill()
            return True

        status, poisoned = post(event("new_episode", [poison], MOVIE))
        assert status == 202, poisoned
        event_ids = [poisoned["event_id"]]
        for chunk in (others[:10], others[10:20], others[20:]):
            status, answer = post(event("new_episode", chunk, MOVIE))
            assert status == 202, answer
            event_ids.append(answer["event_id"])

        with FaultProxy(FaultPolicy(), on_send=crash_on_poison) as proxy:
            worker = WorkerProcess(
                stack.worker_environment
                | {
                    "AWS_ENDPOINT_URL_SES": proxy.url,
                    # a short budget, so that a dead worker's lease (budget + 5 s) ends soon
                    "NOTIFY_WORKER_MESSAGE_BUDGET_SECONDS": "4",
                    "NOTIFY_SEND_SAFETY_MARGIN_SECONDS": "1",
                },
                tmp_path / "worker.log",
                "--channels",
                "email",
            )
            worker.start()
            killed = 0
            deadline = time.monotonic() + 240
            try:
                while time.monotonic() < deadline:
                    if not worker.running():
                        assert worker.process is not None
                        killed += worker.process.returncode == -9
                        worker.start()  # as systemd's Restart=always would
                    statuses = row_statuses(stack.dsn, event_ids[1:], "email")
                    if statuses.get("sent") == len(others) and _dead_lettered(stack.prefix):
                        break
                    time.sleep(0.5)
                settled_at = time.monotonic()
                still_running = worker.running()
            finally:
                worker.stop()
                print(worker.output())

        dead = _dead_lettered(stack.prefix)
        counts = counts_after_grace([poison, *others], ["email"], settled_at)["email"]
        statuses = row_statuses(stack.dsn, event_ids[1:], "email")
        swallowed = proxy.sends("swallowed")

    sent = sum(1 for user in others if counts[user["email"]] >= 1)
    result = Result(
        "worker-crash",
        len(others),
        sent,
        len(others) - sent,
        sum(max(0, counts[user["email"]] - 1) for user in others),
        statuses,
    )
    report_line(request.config, "fault suite", f"{result.line}; poison dead-lettered after {killed} kills")
    print(result, f"kills {killed}, dead-lettered {len(dead)}")
    check(result, allowed_duplicates=0)
    assert statuses == {"sent": len(others)}, statuses
    assert len(dead) == 1, dead
    assert poisoned["event_id"].encode() in dead[0], dead
    assert counts[poison["email"]] == 0  # the proxy swallowed every try: nothing reached SES
    # each kill spent one attempt: the message went to the DLQ at the last, not before, not never
    assert killed == swallowed == MAX_ATTEMPTS, (killed, swallowed)
    assert still_running, "the worker that outlived the poison message is running"
