"""The fault scenarios of issue 10 (its seven, and sender-timed-out beside sender-killed), each
against the deployed local stack and its PostgreSQL.

Each makes users of its own, posts one `new_episode` event (priority 8: the high queues, which quiet
hours do not hold back), breaks one thing while it is delivered, and ends with `faults.account`, which
prints the scenario's line; then `check` asserts nobody was lost and no more duplicates than the fault
can explain (a process that died, or an answer lost, after the provider accepted).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest

from notify.delivery.dispatch import DispatchPolicy
from notify_dev.api import ACCEPTED_STATUSES, PENDING_STATUSES
from notify_dev.endpoints import aws
from notify_dev.polling import wait_for
from notify_dev.redrive import redrive
from tests.e2e.conftest import event
from tests.faults import stack
from tests.faults.conftest import Faults, check
from tests.faults.proxy import FaultPolicy, FaultProxy
from tests.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.faults

FLUSH_EVERY = DispatchPolicy().flush_every


def concurrency(faults: Faults) -> int:
    """How many sends one execution environment of send-email has in flight at most."""
    config = faults.lambda_.get_function_configuration(FunctionName=faults.functions["send_email"])
    return int(config.get("Environment", {}).get("Variables", {}).get("NOTIFY_SEND_CONCURRENCY", "16"))


def provider_through(proxy: FaultProxy, **more: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL_SES": proxy.url, "AWS_ENDPOINT_URL_SNS": proxy.url, **more}


def test_sender_killed(faults: Faults) -> None:
    """SIGKILL every send-email process once some rows of the event are sent and others are not."""
    users = faults.users(500)
    in_flight = concurrency(faults)
    status, answer = faults.post(users)
    assert status == 202, answer
    event_id = answer["event_id"]

    def midway() -> dict[str, int] | None:
        counts = faults.statuses([event_id])
        return counts if sum(counts.get(s, 0) for s in ACCEPTED_STATUSES) >= 25 else None

    at_kill = wait_for(midway, timeout=60, interval=0.05, what="the first sends")
    killed = stack.kill_function_processes(faults.functions["send_email"])
    result = faults.account("sender-killed", users, [event_id], settle_timeout=150)

    assert killed, "no send-email process to kill"
    sent_at_kill = sum(at_kill.get(s, 0) for s in ACCEPTED_STATUSES)
    assert sent_at_kill < len(users), f"everything was sent before the kill: {at_kill}"
    # Accepted but not recorded when the process died: its sends in flight, and the outcomes waiting
    # in its write buffer (written every FLUSH_EVERY outcomes or flush_interval_s).
    check(result, allowed_duplicates=len(killed) * (in_flight + FLUSH_EVERY))


def test_sender_timed_out(faults: Faults) -> None:
    """send-email deployed with a 3 s timeout and no safety margin, every send 1 s slow (the proxy):
    a message of 120 recipients cannot finish in one invocation, which is stopped mid-send."""
    users = faults.users(120)
    function = faults.functions["send_email"]
    since_ms = int(time.time() * 1000)
    with (
        FaultProxy(FaultPolicy(latency_s=1.0)) as proxy,
        stack.function_configuration(
            faults.lambda_,
            function,
            # Without the configuration set here: LocalStack then spends ~0.1 s of CPU on each
            # SendRawEmail (it publishes the Send and Delivery events before answering), and 32 of
            # those at once on 2 cores outlast the 3 s timeout before any send comes back, so the
            # message would mostly time out at the start, not mid-send (measured: 45 of 120 still
            # unsent after 180 s with it, all sent in 105 s without it).
            environment=provider_through(
                proxy, NOTIFY_SEND_SAFETY_MARGIN_SECONDS="0", NOTIFY_EMAIL_CONFIGURATION_SET=""
            ),
            timeout=3,
        ),
    ):
        in_flight = concurrency(faults)
        status, answer = faults.post(users)
        assert status == 202, answer
        result = faults.account("sender-timed-out", users, [answer["event_id"]], settle_timeout=180)
    timed_out = stack.timeouts_since(faults.endpoints, function, since_ms)

    assert timed_out, "no invocation timed out: the scenario proved nothing"
    # A stopped invocation loses the outcomes of the sends in flight and of those not yet written
    # (written every 50 outcomes or 0.25 s): only those may be sent again.
    check(result, allowed_duplicates=timed_out * (in_flight + FLUSH_EVERY))


def test_db_dropped(faults: Faults) -> None:
    """pg_terminate_backend on send-email's connections (PGAPPNAME) every 0.4 s while it sends."""
    users = faults.users(400)
    app = f"notify-faults-{uuid.uuid4().hex[:8]}"
    function = faults.functions["send_email"]
    with stack.function_configuration(faults.lambda_, function, environment={"PGAPPNAME": app}):
        status, answer = faults.post(users)
        assert status == 202, answer
        event_id = answer["event_id"]
        terminated = 0
        until = time.monotonic() + 30
        while time.monotonic() < until:
            terminated += stack.terminate_backends(faults.database_url, app)
            if not set(faults.statuses([event_id])) & PENDING_STATUSES:
                break
            time.sleep(0.4)
        result = faults.account("db-dropped", users, [event_id], settle_timeout=120)

    assert terminated, "no connection of send-email was terminated"
    # No process dies: a write that failed is retried on a new connection within the invocation,
    # so every accepted send is recorded once.
    check(result, allowed_duplicates=0)


def test_provider_flaky(faults: Faults) -> None:
    """30 % of SES/SNS send calls answered 503 ServiceUnavailable or 400 Throttling, never forwarded."""
    users = faults.users(200)
    function = faults.functions["send_email"]
    with (
        FaultProxy(FaultPolicy(fail_rate=0.3)) as proxy,
        stack.function_configuration(faults.lambda_, function, environment=provider_through(proxy)),
    ):
        status, answer = faults.post(users)
        assert status == 202, answer
        # a refused send waits `deferred` (10 s at least) until the tick queues it again
        result = faults.account("provider-flaky", users, [answer["event_id"]], settle_timeout=150)

    assert proxy.sends("fail"), "the proxy failed no send"
    check(result, allowed_duplicates=0)  # a refused call was never accepted


def test_provider_hangs(faults: Faults) -> None:
    """10 % of send calls forwarded (the provider accepts them), their answers held 4 s past the
    service's 2 s read timeout (NOTIFY_PROVIDER_TIMEOUT_SECONDS)."""
    users = faults.users(100)
    function = faults.functions["send_email"]
    with (
        FaultProxy(FaultPolicy(hold_rate=0.1, hold_s=4.0)) as proxy,
        stack.function_configuration(
            faults.lambda_,
            function,
            environment=provider_through(proxy, NOTIFY_PROVIDER_TIMEOUT_SECONDS="2"),
        ),
    ):
        status, answer = faults.post(users)
        assert status == 202, answer
        result = faults.account("provider-hangs", users, [answer["event_id"]], settle_timeout=150)

    assert proxy.sends("hold"), "the proxy held no answer"
    check(result, allowed_duplicates=proxy.sends("hold"))  # each held answer was an accepted send


def _stored_unpublished(faults: Faults, users: list[dict[str, Any]]) -> tuple[int, Any, str]:
    """POST /events while ingest cannot reach SQS (its endpoint a closed port): (status, answer,
    event id); the event and its outbox messages are stored, not published."""
    ingest = faults.functions["ingest"]
    unreachable = {"AWS_ENDPOINT_URL_SQS": f"http://127.0.0.1:{stack.closed_port()}"}
    with stack.function_configuration(faults.lambda_, ingest, environment=unreachable):
        status, answer = faults.post(users)
    event_id = answer.get("event_id") if isinstance(answer, dict) else None
    event_id = event_id or faults.event_of(users[0])
    assert event_id, f"POST /events answered {status} {answer} and stored nothing"
    if event_id not in faults.api.events:
        faults.api.events.append(event_id)
    published = [m[3] for m in _outbox_of(faults, event_id)]
    assert published, "the event left no outbox message"
    assert published == [None] * len(published), f"published although SQS was unreachable: {published}"
    return status, answer, event_id


def _outbox_of(faults: Faults, event_id: str) -> list[tuple[str, str, str, Any]]:
    return [
        (str(message_id), queue, body, published_at)
        for message_id, queue, body, published_at in faults.sql(
            "SELECT message_id, queue, body, published_at FROM outbox WHERE position(%s in body) > 0",
            (event_id,),
        )
    ]


def test_double_delivery(faults: Faults) -> None:
    """The same SQS record handed to two send-email invocations at once (through the Lambda API, with
    a real receipt handle from a scratch queue no trigger reads), 30 ms of provider latency per send
    so that both are at work together."""
    users = faults.users(150)
    _, _, event_id = _stored_unpublished(faults, users)
    [(message_id, _, body, _)] = _outbox_of(faults, event_id)
    # the relay must not publish it as well: this scenario delivers it by hand, twice
    faults.sql("UPDATE outbox SET published_at = now() WHERE message_id = %s", (message_id,))
    sqs = aws("sqs", faults.endpoints["localstack_url"])
    queue_url = sqs.create_queue(QueueName=f"notify-faults-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    function = faults.functions["send_email"]
    try:
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        [message] = sqs.receive_message(QueueUrl=queue_url, AttributeNames=["All"], VisibilityTimeout=300)[
            "Messages"
        ]
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message["Attributes"],
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": faults.endpoints["region"],
        }
        with (
            FaultProxy(FaultPolicy(latency_s=0.03)) as proxy,
            # A read timeout well past what a loaded machine may take to answer: this scenario is
            # about two invocations at once, and a send that timed out is `unconfirmed`, not counted.
            stack.function_configuration(
                faults.lambda_,
                function,
                environment=provider_through(proxy, NOTIFY_PROVIDER_TIMEOUT_SECONDS="20"),
            ),
        ):
            _concurrently(faults, function, [{"Records": []}] * 2)  # two warm environments
            answers = _concurrently(faults, function, [{"Records": [record]}] * 2)
            result = faults.account("double-delivery", users, [event_id], settle_timeout=90)
    finally:
        sqs.delete_queue(QueueUrl=queue_url)

    assert all(a["StatusCode"] == 200 for a in answers), answers
    overlap = min(a["ended"] for a in answers) - max(a["started"] for a in answers)
    assert overlap > 0, f"the two invocations did not overlap: {answers}"
    check(result, allowed_duplicates=0, context=f"proxy: {dict(proxy.stats.counts)}")


def _concurrently(faults: Faults, function: str, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Invoke `function` once per payload, all at the same time; each answer with its start and end."""
    answers: list[dict[str, Any]] = [{} for _ in payloads]
    start = threading.Barrier(len(payloads))

    def one(index: int, payload: dict[str, Any]) -> None:
        client = aws("lambda", faults.endpoints["localstack_url"])
        start.wait()
        started = time.monotonic()
        answer = client.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
        answers[index] = {
            "StatusCode": answer["StatusCode"],
            "FunctionError": answer.get("FunctionError"),
            "Payload": answer["Payload"].read()[:500].decode("utf-8", "replace"),
            "started": started,
            "ended": time.monotonic(),
        }

    threads = [threading.Thread(target=one, args=(i, p)) for i, p in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_broker_down(faults: Faults) -> None:
    """POST /events while ingest cannot reach SQS: 202, and the tick's relay delivers it afterwards."""
    users = faults.users(50)
    status, answer, event_id = _stored_unpublished(faults, users)
    # the relay takes messages older than its 30 s grace; the tick runs every 15 s meanwhile
    result = faults.account("broker-down", users, [event_id], settle_timeout=120)

    assert status == 202, answer
    check(result, allowed_duplicates=0)


def test_oversized_outbox(faults: Faults) -> None:
    """An outbox message over the queue's MaximumMessageSize (SQS and LocalStack 2026.3: 1 MiB by
    default, no longer 256 KiB), older than everything else, ahead of a real event's unpublished
    messages: the tick relays those and parks the refused one with its error."""
    queue = "notify-email-high"
    sqs = aws("sqs", faults.endpoints["localstack_url"])
    limit = int(
        sqs.get_queue_attributes(
            QueueUrl=faults.endpoints["queues"][queue], AttributeNames=["MaximumMessageSize"]
        )["Attributes"]["MaximumMessageSize"]
    )
    blocker = str(uuid.uuid4())
    parked: tuple[Any, ...] = ()
    missing = ""
    body = json.dumps({"schema_version": 1, "faults": "oversized-outbox", "padding": "x" * (limit + 1024)})
    faults.sql(
        "INSERT INTO outbox (message_id, queue, body, created_at)"
        " VALUES (%s, %s, %s, now() - interval '2 minutes')",
        (blocker, queue, body),
    )
    try:
        users = faults.users(30)
        _, _, event_id = _stored_unpublished(faults, users)
        # the outage began a minute ago (past the relay's 30 s grace), after the refused message
        faults.sql(
            "UPDATE outbox SET created_at = now() - interval '1 minute'"
            " WHERE position(%s in body) > 0 AND published_at IS NULL",
            (event_id,),
        )
        # One tick, nothing else: the relay's 60 s claim on a failed batch would let a second tick
        # within the minute slip past the refused message and hide that one tick stopped at it.
        stack.invoke_tick(faults.lambda_, faults.endpoints["tick_function"], wait=True)
        unrelayed = [m for m in _outbox_of(faults, event_id) if m[3] is None]
        result = faults.account("oversized-outbox", users, [event_id], settle_timeout=60, tick=False)
        try:
            [parked] = faults.sql(
                "SELECT published_at, parked_at, error FROM outbox WHERE message_id = %s", (blocker,)
            )
        except psycopg.errors.UndefinedColumn as error:
            missing = str(error).splitlines()[0]
    finally:
        faults.sql("DELETE FROM outbox WHERE message_id = %s", (blocker,))

    check(result, allowed_duplicates=0)
    assert not unrelayed, f"{result}: {len(unrelayed)} ordinary message(s) not marked published by the tick"
    assert parked, f"the outbox has no parked_at/error: {missing}"
    published_at, parked_at, reason = parked
    assert published_at is None, "a message SQS refuses was marked published"
    assert parked_at is not None, "the refused message is not parked"
    assert reason, "the parked message does not say why"


def _dead_lettered(faults: Faults, queue: str) -> int:
    sqs = aws("sqs", faults.endpoints["localstack_url"])
    attributes = sqs.get_queue_attributes(
        QueueUrl=faults.endpoints["queues"][f"{queue}-dlq"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_db_outage_long(faults: Faults) -> None:
    """send-email and the tick reach PostgreSQL through a TCP proxy, cut before the event is posted
    and healed only once the event's message is dead-lettered (its receive schedule ran out). The tick
    then finds the rows still queued past the schedule and queues them again; nobody acts by hand.

    The tick is told the local schedule as the local stack runs it (NOTIFY_WORKER_MESSAGE_BUDGET_SECONDS
    1, margin 10 s: 83 s for 3 receives and a 5 s visibility timeout) so the scenario takes minutes,
    not the template's 20."""
    queue = "notify-email-high"
    users = faults.users(60)
    dead_before = _dead_lettered(faults, queue)
    with TcpProxy() as database:
        through_proxy = {
            "NOTIFY_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{database.port}/notify",
            "NOTIFY_WORKER_MESSAGE_BUDGET_SECONDS": "1",
            "NOTIFY_LOST_MESSAGE_MARGIN_SECONDS": "10",
        }
        with (
            stack.function_configuration(
                faults.lambda_, faults.functions["send_email"], environment=through_proxy
            ),
            stack.function_configuration(
                faults.lambda_, faults.endpoints["tick_function"], environment=through_proxy
            ),
        ):
            database.cut()
            cut_at = time.monotonic()
            status, answer = faults.post(users)  # ingest reaches the database directly
            assert status == 202, answer
            wait_for(
                lambda: _dead_lettered(faults, queue) > dead_before,
                timeout=240,
                interval=2,
                what="the event's message in the DLQ",
            )
            outage_s = time.monotonic() - cut_at
            stranded = faults.statuses([answer["event_id"]])
            database.heal()
            result = faults.account("db-outage-long", users, [answer["event_id"]], settle_timeout=240)
            # The dead-lettered message, redriven now, finds every row final: nothing is sent again.
            redriven = redrive(queue=queue)
            after_redrive = faults.account(
                "db-outage-long-redriven", users, [answer["event_id"]], settle_timeout=60
            )

    print(f"db-outage-long: outage {outage_s:.0f} s, rows at heal {stranded}, redriven {redriven}")
    assert stranded == {"queued": len(users)}, f"rows at heal: {stranded}"
    assert redriven.get(queue, 0) >= 1, redriven
    check(result, allowed_duplicates=0)
    check(after_redrive, allowed_duplicates=0)


def test_provider_outage_long(faults: Faults) -> None:
    """Every SES send answered 503 / Throttling by the proxy (never forwarded) for longer than the
    local stack's whole receive schedule (3 receives, ~70 s), then healed. Recipients wait outside the
    queue (`deferred`, retried by the tick at half their age, at least 10 s), so no receive count runs
    out, nothing is dead-lettered, and everyone is sent once the provider is back."""
    queue = "notify-email-high"
    users = faults.users(60)
    function = faults.functions["send_email"]
    dead_before = _dead_lettered(faults, queue)
    with (
        FaultProxy(FaultPolicy(fail_rate=1.0)) as proxy,
        stack.function_configuration(faults.lambda_, function, environment=provider_through(proxy)),
    ):
        status, answer = faults.post(users)
        assert status == 202, answer
        event_id = answer["event_id"]
        outage_s = 100  # > (5 s visibility + 10·2ⁿ s backoff) over 3 receives
        time.sleep(outage_s)
        during = faults.statuses([event_id])
        refused = proxy.sends("fail")
        proxy.policy = FaultPolicy()  # healed: every send is forwarded
        result = faults.account("provider-outage-long", users, [event_id], settle_timeout=300)
    dead_after = _dead_lettered(faults, queue)

    print(f"provider-outage-long: outage {outage_s} s, {refused} sends refused, rows then {during}")
    assert refused >= len(users), f"the proxy refused {refused} sends"
    assert set(during) <= {"deferred", "queued", "sending"}, f"rows during the outage: {during}"
    assert dead_after == dead_before, "a message was dead-lettered during the outage"
    check(result, allowed_duplicates=0)


def test_tick_killed_mid_advance(faults: Faults) -> None:
    """SIGKILL the tick while it advances 2,000 due workflow runs (its transaction open on them): every
    run takes its step once, by a later tick, and every recipient gets the e-mail once."""
    key = f"fault_runs_{uuid.uuid4().hex[:8]}"
    # A send and a condition on it: a workflow with runs, each taking its first step at the next tick.
    workflow = {
        "steps": [
            {"ref": "mail", "type": "send", "channel": "email"},
            {"type": "send", "channel": "push", "if": {"ref": "mail", "any": ["bounced"]}},
        ],
        "templates": {
            "email": {"en": {"subject": "Kick-off", "text": "The match starts in 10 minutes"}},
            "push": {"en": {"title": "Kick-off", "body": "The match starts in 10 minutes"}},
        },
        "controls": {"quiet_hours": False},
    }
    assert faults.api.request("PUT", f"/workflows/{key}", workflow)[0] == 201
    users = faults.users(2000)
    tick = faults.endpoints["tick_function"]
    app = f"notify-faults-{uuid.uuid4().hex[:8]}"

    def advancing() -> bool:
        # the tick's transaction open on the runs (between its statements, or in one)
        return bool(
            faults.sql(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND xact_start IS NOT NULL"
                " AND query ILIKE %s",
                (app, "%workflow_runs%"),
            )
        )

    with stack.function_configuration(faults.lambda_, tick, environment={"PGAPPNAME": app}):
        status, answer = faults.api.request("POST", "/events", event(key, users, faults.movie, priority=8))
        assert status == 202, answer
        event_id = answer["event_id"]
        stack.invoke_tick(faults.lambda_, tick)
        wait_for(advancing, timeout=90, interval=0.01, what="the tick advancing the runs")
        killed = stack.kill_function_processes(tick)
        made_at_kill = faults.sql("SELECT count(*) FROM notifications WHERE event_id = %s", (event_id,))[0][0]
    result = faults.account("tick-killed-mid-advance", users, [event_id], settle_timeout=240)
    histories = faults.sql(
        "SELECT jsonb_array_length(history), state FROM workflow_runs WHERE event_id = %s", (event_id,)
    )
    faults.api.request("DELETE", f"/workflows/{key}")

    assert killed, "no tick process to kill"
    assert made_at_kill < len(users), "every run had advanced before the kill"
    # each run: its e-mail sent once, the push's condition false once, done
    assert sorted(set(histories)) == [(2, "done")], histories[:5]
    assert len(histories) == len(users)
    check(result)
