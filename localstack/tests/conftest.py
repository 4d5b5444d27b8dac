"""Fixtures for the host-executor tests: a LocalStack on 127.0.0.1:4566 started by localstack/stack.sh.

If LocalStack already runs there, it is used and left running; otherwise the session starts it and
stops it at the end (set LOCALSTACK_KEEP=1 to keep it). When it cannot start, every test is skipped
with the reason (the end of stack.sh's output).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import textwrap
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

HERE = Path(__file__).resolve().parent
STACK = HERE.parent / "stack.sh"
ENDPOINT = "http://127.0.0.1:4566"
CLIENT_KW: dict[str, Any] = {
    "endpoint_url": ENDPOINT,
    "region_name": "us-east-1",
    "aws_access_key_id": "test",
    "aws_secret_access_key": "test",
}
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def _healthy() -> bool:
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/_localstack/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def stack() -> Iterator[str]:
    started_here = False
    if not _healthy():
        proc = subprocess.run(
            ["bash", str(STACK), "start"], capture_output=True, text=True, timeout=900, check=False
        )
        if proc.returncode != 0 or not _healthy():
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
            pytest.skip(
                f"LocalStack could not start (localstack/stack.sh start exited {proc.returncode}):\n{tail}"
            )
        started_here = True
    yield ENDPOINT
    if started_here and os.environ.get("LOCALSTACK_KEEP") != "1":
        subprocess.run(["bash", str(STACK), "stop"], capture_output=True, timeout=60, check=False)


@pytest.fixture(scope="session")
def aws(stack: str) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        return boto3.client(service, **CLIENT_KW)

    return client


@pytest.fixture(scope="session")
def lam(aws: Callable[[str], Any]) -> Any:
    return aws("lambda")


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


@pytest.fixture
def make_function(lam: Any) -> Iterator[Callable[..., str]]:
    """Create a python3.13 function from {file name: source}; deleted after the test."""
    created: list[str] = []

    def make(files: dict[str, str], handler: str = "app.handler", **config: Any) -> str:
        name = f"hx-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=ROLE,
            Handler=handler,
            **({"Code": {"ZipFile": make_zip(files)}} | config),
        )
        created.append(name)
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
        return name

    yield make
    for name in created:
        with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
            lam.delete_function(FunctionName=name)


def wait_for(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def function_pids(function_name: str) -> list[int]:
    """Host processes running that function (their environment names it)."""
    pids = []
    needle = f"AWS_LAMBDA_FUNCTION_NAME={function_name}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            pids.append(int(entry))
    return pids
