"""Measure the host-executor LocalStack: start time, Lambda cold start, warm invoke latency, memory.

    .local/localstack-venv/bin/python localstack/bench.py     (any Python with boto3 will do)

Stops a LocalStack that stack.sh started, starts it anew (timed), runs the measurements, stops it
again if it was not running before, and prints one JSON line last.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any

import boto3

HERE = Path(__file__).resolve().parent
STACK = HERE / "stack.sh"
KW: dict[str, Any] = {
    "endpoint_url": "http://127.0.0.1:4566",
    "region_name": "us-east-1",
    "aws_access_key_id": "test",
    "aws_secret_access_key": "test",
}
TRIVIAL = "import os\ndef handler(event, context):\n    return os.getpid()\n"
WITH_BOTO3 = (
    "import os, boto3\nsqs = boto3.client('sqs')\n"
    "def handler(event, context):\n    sqs.list_queues()\n    return os.getpid()\n"
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def vsz_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stack(command: str) -> None:
    subprocess.run(["bash", str(STACK), command], check=True, capture_output=True)  # noqa: S603, S607


def healthy() -> bool:
    try:
        with urllib.request.urlopen("http://127.0.0.1:4566/_localstack/health", timeout=1):
            return True
    except OSError:
        return False


def make_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def create(lam: Any, source: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role="arn:aws:iam::000000000000:role/bench",
        Handler="app.handler",
        Code={"ZipFile": make_zip(source)},
        MemorySize=512,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})
    return name


def invoke_ms(lam: Any, name: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    pid = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, pid
    return (time.perf_counter() - started) * 1000, pid


def main() -> None:
    was_running = healthy()
    if was_running:
        stack("stop")
    started = time.perf_counter()
    stack("start")
    start_s = time.perf_counter() - started
    ls_pid = int((HERE.parent / ".local" / "localstack.pid").read_text())
    ls_idle_mb = rss_mb(ls_pid)

    lam = boto3.client("lambda", **KW)
    t = time.perf_counter()
    lam.list_functions()
    first_lambda_call_ms = (time.perf_counter() - t) * 1000

    results: dict[str, Any] = {
        "localstack_start_s": round(start_s, 2),
        "localstack_rss_idle_mb": round(ls_idle_mb, 1),
        "first_lambda_api_call_ms": round(first_lambda_call_ms, 1),
    }
    for label, source in (("trivial", TRIVIAL), ("boto3", WITH_BOTO3)):
        name = create(lam, source)
        cold_ms, pid = invoke_ms(lam, name)
        warm = sorted(invoke_ms(lam, name)[0] for _ in range(100))
        results[label] = {
            "cold_invoke_ms": round(cold_ms, 1),
            "warm_p50_ms": round(statistics.median(warm), 1),
            "warm_p90_ms": round(warm[89], 1),
            "function_rss_mb": round(rss_mb(pid), 1),
            "function_vsz_mb": round(vsz_mb(pid), 1),
        }
        lam.delete_function(FunctionName=name)
    results["localstack_rss_after_mb"] = round(rss_mb(ls_pid), 1)
    if not was_running:
        stack("stop")
    print(json.dumps(results), file=sys.stdout)


if __name__ == "__main__":
    os.chdir(HERE.parent)
    main()
