"""Delivery benchmark: how fast one large event is sent, on the deployed stack and in one execution
environment with provider latency, each against the ceiling it could reach.

Part 1, on the deployed local stack (brought up first when LocalStack is down; the API key header
of bench/stack.py once the stack has keys): --recipients e-mail-only users (default 20,000) PUT
through the API in batches of 1,000, in a time zone where it is about noon, so that the default
quiet hours hold nothing back and no preferences are needed; one movie; then one `POST /events`
(new_episode, priority 8, every user) and the stack's database polled until every row is final.
rate_per_s = recipients / (POST → the last row final). After a grace period (--grace, 10 s) the SES
store is read once: lost = recipients whose row is not final and sent (or unconfirmed) or whose
message is not in the store; duplicates = e-mails beyond the first per address.
The ceilings, measured in the same run on the same LocalStack: one process calling `send_raw_email`
from 1, 8 and 32 threads (a client configured like the service's provider client), --ceiling
messages per measurement (2,000: at 1,000, about 3 s each, two measurements side by side differed by
up to 40%), the message the service sends for this event (the real TemplateRenderer and
notify.adapters.email.mime_message; same size), in 3 rounds, two before the service's run and one
after it and its events, each round one measurement of each:
- same_work_ceiling_per_s (also ses_ceiling_per_s): with the stack's configuration set
  (`<queue_prefix>-email`), as the sender sends: SES publishes its events for each;
- raw_ceiling_per_s: without it.
Each is the better thread count's median of the 3 rounds (interleaved, so that a slow moment of the
machine weighs on both, and bracketing the service's run, so that a drift over minutes does too).
Each measurement starts once the e-mail events of the one before are published and handled
(`settle_email_events`): with the stack's SES plugin, events are published after the sends, as on
AWS, and a round must not pay for another's.
ratio = rate_per_s / same_work_ceiling_per_s (target >= 0.8);
raw_ratio = rate_per_s / raw_ceiling_per_s (>= 0.5 once SES events leave the send's path, issue 27);
events_cost = same_work / raw at each thread count (>= 0.7 with the stack's SES plugin);
single_send_ms = 1000 / the 1-thread rate, with and without the set (a fifth of the messages).

Part 2, in process (--skip-stack runs only this): the real send path with 50 ms of provider
latency: 16 queue messages of 250 recipients (4,000) stored by the ingest's fan-out in a scratch
database, handed to notify.entrypoints.queue.handle_sqs_batch as SQS batches of 10 (the template's
BatchSize), as one execution environment takes them: the real PostgresStore as ledger and controls,
the real renderer, a sender whose send() sleeps --latency-ms and answers an id. C = the deployed
default NOTIFY_SEND_CONCURRENCY (Settings().send_concurrency); env_rate_per_s = recipients / seconds
(median of --repeat), env_ratio = env_rate_per_s / (C / latency). Target env_ratio >= 0.6.
The same work is measured with one message of a batch at a time (NOTIFY_MESSAGES_AT_ONCE=1, the
baseline) and with the default (Settings().messages_at_once), interleaved: at_once_gain = the
default's rate / the baseline's.
--sweep measures C in 8, 16, 32, 64 (the figures that chose the default).

Run with `make bench` (or `.venv/bin/python bench/delivery.py`); part 1 needs the stack (`make up`),
part 2 PostgreSQL. Everything made is removed at the end: users, the movie, the event and its rows
and outbox messages, the e-mails in the SES store, the scratch database. The last line printed is
JSON: {"bench": "delivery", "recipients", "rate_per_s", "same_work_ceiling_per_s", "ses_ceiling_per_s",
"raw_ceiling_per_s", "ratio", "raw_ratio", "lost",
"duplicates", "events_settled_s" (the run's e-mail events handled, after its last row was final),
"latency_ms", "concurrency", "env_rate_per_s", "env_ratio", "env_one_at_a_time_per_s", "at_once_gain",
...}.
"""

import argparse
import json
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the service's per-message logs stay quiet

import boto3
import psycopg

from notify import bootstrap
from notify.adapters.aws import ProviderConnection
from notify.adapters.email import mime_message
from notify.adapters.postgres import PostgresStore
from notify.channels import Channel, EventType, QueueRouter
from notify.delivery.models import Content, Recipient
from notify.delivery.ports import Rendered, Sender
from notify.entrypoints.queue import handle_sqs_batch
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import EventRequest
from notify.outbox.ports import Publisher
from notify.settings import Settings
from notify_dev.api import PENDING_STATUSES
from notify_dev.benchmarks import (
    StackRun,
    delivery_counts,
    ensure_stack,
    quiet_free_timezone,
    ratio,
    settle_email_events,
)
from notify_dev.doubles import FakeLambdaContext, FakePublisher
from notify_dev.scratch import scratch_database
from notify_dev.web import http

CEILING_THREADS = (1, 8, 32)  # 1: a single send's latency (a fifth of the messages)
CEILING_ROUNDS = 3
BATCH_SIZE = 10  # template.yaml's BatchSize for the senders' queues
SWEEP = (8, 16, 32, 64)


# ---- part 1: the deployed stack ------------------------------------------------------------------


def service_like_email(endpoints: dict[str, Any], address: str) -> bytes:
    """The raw e-mail the service sends for a new episode, rendered by its own composition."""
    settings = Settings(public_base_url=endpoints["api_url"])
    user = Recipient(user_id=uuid.uuid4(), first_name="Bench", last_name="bench0", email=address)
    content = Content(movie_id=uuid.uuid4(), title="Bench Film 0123456789", season=1, episode=2)
    rendered = bootstrap.Services(settings).renderer.render(
        EventType.NEW_EPISODE, Channel.EMAIL, user, [content]
    )
    return mime_message(endpoints["email_sender"], address, rendered)


def ses_ceiling(
    endpoints: dict[str, Any], threads: int, messages: int, configuration_set: str | None
) -> float:
    """send_raw_email from `threads` threads of this process, naming `configuration_set` when given;
    e-mails per second. Its e-mails are removed from the store afterwards."""
    tag = uuid.uuid4().hex[:10]
    source = endpoints["email_sender"]
    addresses = [f"ceiling-{tag}-{n}@bench.example" for n in range(messages)]
    sample = service_like_email(endpoints, addresses[0])
    bodies = [sample.replace(addresses[0].encode(), address.encode()) for address in addresses]
    client = boto3.client(
        "ses",
        endpoint_url=endpoints["localstack_url"],
        region_name=endpoints["region"],
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - LocalStack's fake credentials
        config=ProviderConnection(region=endpoints["region"], pool_size=threads).config(),
    )

    named: dict[str, Any] = {"ConfigurationSetName": configuration_set} if configuration_set else {}

    def send(n: int) -> str:
        answer = client.send_raw_email(
            Source=source, Destinations=[addresses[n]], RawMessage={"Data": bodies[n]}, **named
        )
        return str(answer["MessageId"])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        ids = list(pool.map(send, range(threads)))  # connections open before the clock starts
        started = time.perf_counter()
        ids += pool.map(send, range(messages))
        elapsed = time.perf_counter() - started
    for message_id in ids:
        http("DELETE", f"{endpoints['localstack_url']}/_aws/ses?id={message_id}")
    return messages / elapsed


class CeilingRounds:
    """The ceilings' rounds: each measures every thread count with the stack's configuration set and
    without it, one after the other; rounds are taken when asked, so that they can bracket the
    service's run (a machine that drifts over minutes weighs on both sides)."""

    def __init__(self, endpoints: dict[str, Any], messages: int) -> None:
        self.endpoints, self.messages = endpoints, messages
        self.configuration_set = f"{endpoints.get('queue_prefix', 'notify')}-email"
        self.rates: dict[str, dict[int, list[float]]] = {"same_work": {}, "raw": {}}
        self.taken = 0

    def take(self, rounds: int = 1) -> None:
        for _ in range(rounds):
            self.taken += 1
            for threads in CEILING_THREADS:
                for kind, named in (("same_work", self.configuration_set), ("raw", None)):
                    settle_email_events(self.endpoints)  # each starts with no events of another
                    messages = self.messages if threads > 1 else self.messages // 5
                    rate = ses_ceiling(self.endpoints, threads, messages, named)
                    self.rates[kind].setdefault(threads, []).append(rate)
                    print(
                        f"SES ceiling, round {self.taken}, {kind}, {threads} threads: {rate:.0f}/s",
                        flush=True,
                    )

    def medians(self) -> dict[str, dict[int, float]]:
        """{"same_work": {threads: median e-mails/s}, "raw": {…}}"""
        return {
            kind: {threads: statistics.median(rates) for threads, rates in by_threads.items()}
            for kind, by_threads in self.rates.items()
        }


def ceiling_figures(ceilings: dict[str, dict[int, float]]) -> dict[str, Any]:
    same_work, raw = max(ceilings["same_work"].values()), max(ceilings["raw"].values())
    return {
        "same_work_ceiling_per_s": round(same_work, 1),
        "ses_ceiling_per_s": round(same_work, 1),
        "raw_ceiling_per_s": round(raw, 1),
        "ceiling_by_threads": {
            kind: {str(t): round(c, 1) for t, c in by_threads.items()}
            for kind, by_threads in ceilings.items()
        },
        "events_cost": {str(t): ratio(ceilings["same_work"][t], ceilings["raw"][t]) for t in CEILING_THREADS},
        "single_send_ms": {kind: round(1000 / by_threads[1], 1) for kind, by_threads in ceilings.items()},
    }


def on_stack(args: argparse.Namespace) -> dict[str, Any]:
    endpoints = ensure_stack()
    rounds = CeilingRounds(endpoints, args.ceiling)
    rounds.take(CEILING_ROUNDS - 1)  # and the last once the service's run and its events are done

    run = StackRun(endpoints)
    try:
        zone = quiet_free_timezone(datetime.now(UTC))
        started = time.monotonic()
        users = run.put_users(args.recipients, zone)
        movie_id = run.put_movie()
        print(
            f"PUT {len(users):,} users ({zone}) through the API in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        event_id, posted = run.post_event("new_episode", 8, users, movie_id)
        print(f"POST /events → {event_id}; waiting for {len(users):,} rows to be final", flush=True)
        finished, statuses = run.wait_final(event_id, len(users), args.timeout)
        seconds = finished - posted
        rate = len(users) / seconds
        print(f"every row final {seconds:.1f} s after the POST: {rate:.0f}/s", flush=True)
        time.sleep(args.grace)
        counts = delivery_counts(
            statuses, run.emails_per_address(), {u["user_id"]: u["email"] for u in users}
        )
        outcome: dict[str, int] = {}
        for status in statuses.values():
            outcome[status] = outcome.get(status, 0) + 1
        print(f"rows: {outcome}; {counts}", flush=True)
        # The run's e-mail events, published after the sends (localstack_host_executor.ses_events)
        # and handled by the feedback function: waited for, so that part 2 does not share the cores
        # with them; how long they took after the last row was final is reported beside the rate.
        settle_email_events(endpoints, timeout=900)
        events_settled = time.monotonic() - finished
        print(f"the run's e-mail events handled {events_settled:.0f} s after the last row was final")
    finally:
        run.clean_up()
    rounds.take()
    ceilings = rounds.medians()
    ceiling, raw_ceiling = max(ceilings["same_work"].values()), max(ceilings["raw"].values())
    return {
        "recipients": len(users),
        "rate_per_s": round(rate, 1),
        "ratio": ratio(rate, ceiling),
        "raw_ratio": ratio(rate, raw_ceiling),
        "lost": counts["lost"],
        "duplicates": counts["duplicates"],
        "unrecorded_emails": counts["unrecorded"],
        "unfinished": sum(1 for s in statuses.values() if s in PENDING_STATUSES),
        "seconds": round(seconds, 1),
        "events_settled_s": round(events_settled),
        **ceiling_figures(ceilings),
    }


# ---- part 2: one execution environment with provider latency --------------------------------------


class SleepingSender:
    """A provider that takes `latency_s` to accept each message."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.sent = 0
        self._lock = threading.Lock()

    def send(self, address: str, message: Rendered) -> str:
        time.sleep(self.latency_s)
        with self._lock:
            self.sent += 1
        return f"bench-{uuid.uuid4()}"


class BenchServices(bootstrap.Services):
    """The real composition (store, renderer, policies from Settings) with a sleeping sender and a
    publisher that keeps what it is given (nothing is handed back while time is plenty)."""

    def __init__(self, settings: Settings, sender: Sender) -> None:
        super().__init__(settings)
        self._senders[Channel.EMAIL] = sender

    @cached_property
    def publisher(self) -> Publisher:
        return FakePublisher()


def load_users(dsn: str, count: int) -> tuple[list[str], str]:
    user_ids = [str(uuid.uuid4()) for _ in range(count)]
    movie_id = str(uuid.uuid4())
    with psycopg.connect(dsn) as conn:
        with conn.cursor().copy("COPY directory_users (user_id, first_name, email) FROM STDIN") as copy:
            for n, user_id in enumerate(user_ids):
                copy.write_row((user_id, f"Viewer{n}", f"viewer{n}@cinema.example"))
        conn.execute(
            "INSERT INTO directory_movies (movie_id, title, season, episode) VALUES (%s, 'Bench', 1, 2)",
            (movie_id,),
        )
    return user_ids, movie_id


def sqs_batches(bodies: list[str], queue_arn: str) -> list[dict[str, Any]]:
    """The queue messages as the SQS trigger hands them to a sender: BATCH_SIZE records an event."""
    records = [
        {
            "messageId": str(uuid.uuid4()),
            "receiptHandle": uuid.uuid4().hex,
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": "us-east-1",
        }
        for body in bodies
    ]
    return [{"Records": records[n : n + BATCH_SIZE]} for n in range(0, len(records), BATCH_SIZE)]


def time_environment(
    dsn: str,
    store: PostgresStore,
    user_ids: list[str],
    movie_id: str,
    settings: Settings,
    latency_s: float,
) -> float:
    """One event's messages through handle_sqs_batch in one environment; recipients per second."""
    fanned = FakePublisher()
    request = EventRequest.model_validate(
        {
            "event_type": EventType.NEW_EPISODE,
            "created_dt": datetime.now(UTC).isoformat(),
            "priority": 8,
            "payload": {"user": user_ids, "content": [movie_id]},
        }
    )
    accepted = accept_event(
        request,
        now=datetime.now(UTC),
        ports=IngestPorts(events=store, directory=store, outbox=store, publisher=fanned),
        policy=IngestPolicy(router=QueueRouter("notify"), chunk_size=250),
    )
    queue_arn = "arn:aws:sqs:us-east-1:000000000000:notify-email-high"
    batches = sqs_batches([message.body.decode() for message in fanned.published], queue_arn)
    sender = SleepingSender(latency_s)
    services = BenchServices(settings, sender)
    bootstrap.install(services)
    context = FakeLambdaContext(remaining_ms=900_000)  # a Lambda with time to spare
    try:
        services.database.check()  # the pool open and the renderer warm before the clock starts
        services.renderer.render(
            EventType.NEW_EPISODE,
            Channel.EMAIL,
            Recipient(user_id=uuid.uuid4(), email="w@x.example"),
            [Content(movie_id=uuid.uuid4(), title="warm")],
        )
        started = time.perf_counter()
        for batch in batches:
            answer = handle_sqs_batch(batch, context, Channel.EMAIL)  # type: ignore[arg-type]
            if answer.get("batchItemFailures"):
                raise SystemExit(f"records failed: {answer}")
        elapsed = time.perf_counter() - started
    finally:
        bootstrap.install(None)
        services.send_pools.close()
        services.database.close()
    with psycopg.connect(dsn) as conn:
        sent = conn.execute(
            "SELECT count(*) FROM notifications WHERE event_id = %s AND status = 'sent'",
            (accepted.event_id,),
        ).fetchone()
    if sent != (len(user_ids),) or sender.sent != len(user_ids):
        raise SystemExit(f"{sent} rows sent and {sender.sent} sends, expected {len(user_ids)}")
    return len(user_ids) / elapsed


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    latency_s = args.latency_ms / 1000
    default = args.concurrency or Settings().send_concurrency
    at_once = Settings().messages_at_once
    levels = SWEEP if args.sweep else (default,)
    rates: dict[int, float] = {}
    one_at_a_time: list[float] = []
    with scratch_database("notify_bench") as dsn:
        store = PostgresStore(dsn)
        try:
            store.migrate()
            user_ids, movie_id = load_users(dsn, args.env_recipients)
            for concurrency in levels:
                settings = Settings(database_url=dsn, send_concurrency=concurrency)
                baseline = settings.model_copy(update={"messages_at_once": 1})
                runs = []
                for _ in range(args.repeat):  # the baseline interleaved with the default
                    runs.append(time_environment(dsn, store, user_ids, movie_id, settings, latency_s))
                    if concurrency == default:
                        one_at_a_time.append(
                            time_environment(dsn, store, user_ids, movie_id, baseline, latency_s)
                        )
                rates[concurrency] = statistics.median(runs)
                ideal = concurrency / latency_s
                print(
                    f"one environment, C={concurrency}, {at_once} messages at once, {args.latency_ms} ms "
                    f"per send: {', '.join(f'{r:.0f}' for r in runs)} recipients/s "
                    f"(ideal {ideal:.0f}/s, ratio {ratio(rates[concurrency], ideal)})",
                    flush=True,
                )
            print(
                f"one environment, C={default}, one message at a time: "
                f"{', '.join(f'{r:.0f}' for r in one_at_a_time)} recipients/s",
                flush=True,
            )
        finally:
            store.close()
    if default not in rates:
        raise SystemExit(f"the default concurrency {default} was not measured")
    baseline_rate = statistics.median(one_at_a_time)
    result: dict[str, Any] = {
        "latency_ms": args.latency_ms,
        "concurrency": default,
        "messages_at_once": at_once,
        "env_rate_per_s": round(rates[default], 1),
        "env_ratio": ratio(rates[default], default / latency_s),
        "env_one_at_a_time_per_s": round(baseline_rate, 1),
        "at_once_gain": ratio(rates[default], baseline_rate),
        "env_recipients": args.env_recipients,
    }
    if args.sweep:
        result["sweep_env_rate_per_s"] = {str(c): round(r, 1) for c, r in rates.items()}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument(
        "--ceiling", type=int, default=2000, help="send_raw_email calls per measurement (3 rounds × 2 × 2)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for every row final")
    parser.add_argument("--grace", type=float, default=10, help="seconds before duplicates are counted")
    parser.add_argument("--skip-stack", action="store_true", help="only part 2 (in process)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--env-recipients", type=int, default=4000, help="part 2: 16 messages of 250")
    parser.add_argument("--concurrency", type=int, help="part 2's C (default: Settings().send_concurrency)")
    parser.add_argument("--sweep", action="store_true", help="part 2 for C in 8, 16, 32, 64")
    parser.add_argument("--repeat", type=int, default=3, help="part 2 measurements (median reported)")
    parser.add_argument(
        "--ceilings-only", action="store_true", help="only the SES ceilings of part 1 (same work, raw)"
    )
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"bench": "delivery"}
    if args.ceilings_only:
        rounds = CeilingRounds(ensure_stack(), args.ceiling)
        rounds.take(CEILING_ROUNDS)
        result |= ceiling_figures(rounds.medians())
        result["statistic"] = f"ceilings: median of {CEILING_ROUNDS} interleaved rounds"
        print(json.dumps(result))
        return
    if not args.skip_stack:
        result |= on_stack(args)
    result |= in_process(args)
    result["statistic"] = f"part 1 one run; part 2 median of {args.repeat}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
