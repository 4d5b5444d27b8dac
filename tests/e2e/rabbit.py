"""The RabbitMQ path on the local stack, shared by tests/e2e/test_rabbitmq.py and the fault suite: a
scratch database and queue prefix with the ingest code installed in this process (broker rabbitmq),
and the worker (`python -m notify.entrypoints.worker`) as a real subprocess delivering through
LocalStack's SES and SNS (or a fault proxy in front of them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from functions.ingest.app import lambda_handler
from notify import bootstrap
from notify.adapters.postgres import PostgresStore
from notify.bootstrap import Services
from notify.events.models import DirectoryMovie, DirectoryUser
from notify.settings import Settings
from notify_dev.scratch import scratch_database, scratch_queue_prefix
from notify_dev.stores import forget_deliveries
from tests.fakes import FakeLambdaContext
from tests.fakes.keys import add_sample_key
from tests.unit.builders import load_event

ROOT = Path(__file__).resolve().parents[2]
MOVIE = {"movie_id": "0b7f9a52-1c1e-4d7e-9d3a-5b2f2c1e0a01", "title": "Rabbit Run", "season": 1}


@dataclass
class RabbitStack:
    dsn: str
    prefix: str
    store: PostgresStore
    worker_environment: dict[str, str]


@contextmanager
def rabbit_stack(endpoints: dict[str, Any], users: list[dict[str, Any]]) -> Iterator[RabbitStack]:
    """A scratch database holding `users` and MOVIE, a queue prefix of its own, and the ingest code
    installed with broker rabbitmq; the worker's environment to go with them."""
    with scratch_database("notify_e2e") as dsn, scratch_queue_prefix("e2e") as prefix:
        store = PostgresStore(dsn, 2)
        store.migrate()
        store.upsert_users([DirectoryUser.model_validate(user) for user in users])
        store.upsert_movies([DirectoryMovie.model_validate(MOVIE)])
        add_sample_key(store, datetime.now(UTC))  # the key of the sample request post() sends
        bootstrap.install(Services(Settings(database_url=dsn, broker="rabbitmq", queue_prefix=prefix)))
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "NOTIFY_"))
        } | {
            "NOTIFY_DATABASE_URL": dsn,
            "NOTIFY_BROKER": "rabbitmq",
            "NOTIFY_RABBITMQ_URL": endpoints["rabbitmq_url"],
            "NOTIFY_QUEUE_PREFIX": prefix,
            "NOTIFY_EMAIL_SENDER": endpoints["email_sender"],
            "AWS_ENDPOINT_URL": endpoints["localstack_url"],
            "AWS_REGION": endpoints["region"],
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "PYTHONPATH": str(ROOT / "src"),
        }
        try:
            yield RabbitStack(dsn, prefix, store, environment)
        finally:
            forget_deliveries(users, endpoints["localstack_url"])
            bootstrap.install(None)
            store.close()


class WorkerProcess:
    """`python -m notify.entrypoints.worker` as a subprocess, its output kept in a file."""

    def __init__(self, environment: dict[str, str], log: Path, *arguments: str) -> None:
        self._environment = environment
        self._arguments = arguments
        self.log = log
        self.started = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "notify.entrypoints.worker", *self._arguments],
                cwd=ROOT,
                env=self._environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.started += 1

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)

    def stop(self) -> int | None:
        """SIGTERM, as a supervisor stops it; the exit status (None when it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None

    def output(self, limit: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-limit:] if self.log.exists() else ""


def post(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST /events through the ingest function's code, as API Gateway would hand it the request."""
    request = load_event("api_post_event")
    request["body"] = json.dumps(body)
    for headers in (request["headers"], request["multiValueHeaders"]):
        headers.pop("Idempotency-Key", None)
    response = lambda_handler(request, FakeLambdaContext())  # type: ignore[arg-type]
    return response["statusCode"], json.loads(response["body"])
