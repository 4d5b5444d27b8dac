"""Changing the deployed stack for one scenario, and putting it back.

`function_configuration` is the only way a scenario changes a function (environment variables,
timeout): it records the configuration as it found it and restores it in a `finally`, so the stack
is left as `make up` deployed it even when the scenario fails or is interrupted.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from notify_dev.endpoints import aws
from notify_dev.polling import wait_for
from notify_dev.processes import function_processes


def _wait_updated(client: Any, name: str, timeout: float = 60) -> None:
    def done() -> bool:
        config = client.get_function_configuration(FunctionName=name)
        status = config.get("LastUpdateStatus", "Successful")
        if status == "Failed":
            raise RuntimeError(f"{name}: update failed: {config.get('LastUpdateStatusReason')}")
        return bool(status == "Successful" and config.get("State", "Active") == "Active")

    wait_for(done, timeout=timeout, interval=0.2, what=f"{name} LastUpdateStatus Successful")


@contextmanager
def function_configuration(
    client: Any, name: str, *, environment: dict[str, str] | None = None, timeout: int | None = None
) -> Iterator[dict[str, Any]]:
    """The function `name` with `environment` added to its variables (all others kept) and/or another
    Timeout, for the block; then what it had, whatever happened in between.

    The restore undoes only this block's own change, on the configuration as it is then: a deploy
    that ran meanwhile (another engineer's `make up` on the shared stack) keeps what it set."""
    _wait_updated(client, name)
    original = client.get_function_configuration(FunctionName=name)
    before = dict(original.get("Environment", {}).get("Variables", {}))
    change: dict[str, Any] = {}
    if environment is not None:
        change["Environment"] = {"Variables": before | environment}
    if timeout is not None:
        change["Timeout"] = timeout
    try:
        client.update_function_configuration(FunctionName=name, **change)
        _wait_updated(client, name)
        yield client.get_function_configuration(FunctionName=name)
    finally:
        for attempt in range(5):
            try:
                _wait_updated(client, name)
                _undo(client, name, before, environment or {}, original["Timeout"], timeout)
                _wait_updated(client, name)
                break
            except Exception:
                if attempt == 4:
                    raise
                time.sleep(2)


def _undo(
    client: Any,
    name: str,
    before: dict[str, str],
    added: dict[str, str],
    timeout_before: int,
    timeout_set: int | None,
) -> None:
    now = client.get_function_configuration(FunctionName=name)
    variables = dict(now.get("Environment", {}).get("Variables", {}))
    for key, value in added.items():
        if variables.get(key) != value:
            continue  # changed since by someone else: theirs
        if key in before:
            variables[key] = before[key]
        else:
            del variables[key]
    restore: dict[str, Any] = {"Environment": {"Variables": variables}}
    if timeout_set is not None and now["Timeout"] == timeout_set:
        restore["Timeout"] = timeout_before
    client.update_function_configuration(FunctionName=name, **restore)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def kill_function_processes(function_name: str) -> list[int]:
    """SIGKILL every host process of the function (each is one execution environment)."""
    killed = []
    for pid in function_processes().get(function_name, []):
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def terminate_backends(database_url: str, application_name: str) -> int:
    """pg_terminate_backend for every connection to the stack's database with this application_name
    (the functions get it through PGAPPNAME, which libpq reads)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()",
            (application_name,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


def invoke_tick(client: Any, tick_function: str, wait: bool = False) -> None:
    """Run the tick now, as the EventBridge minute rule would (asynchronously unless `wait`)."""
    answer = client.invoke(
        FunctionName=tick_function, InvocationType="RequestResponse" if wait else "Event", Payload=b"{}"
    )
    if wait and "FunctionError" in answer:
        raise RuntimeError(f"tick failed: {answer['Payload'].read()[:2000]!r}")


def timeouts_since(endpoints: dict[str, Any], function_name: str, since_ms: int) -> int:
    """How many invocations of the function timed out since `since_ms` (epoch ms): Lambda writes
    `Task timed out after …` to the function's log group, and the runtime is stopped there."""
    logs = aws("logs", endpoints["localstack_url"], endpoints["region"])
    group = f"/aws/lambda/{function_name}"
    count, token = 0, None
    while True:
        page = logs.filter_log_events(
            logGroupName=group,
            startTime=since_ms,
            filterPattern='"Task timed out"',
            **({"nextToken": token} if token else {}),
        )
        count += sum(1 for e in page["events"] if "Task timed out" in e["message"])
        token = page.get("nextToken")
        if not token:
            return count
