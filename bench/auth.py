"""Authentication's cost: warm `POST /events` through API Gateway with the API-key check ÷ without it,
on the deployed local stack, in the same run.

Without it: the bench deploys, beside the stack, a copy of the ingest function (the same code package,
layer, environment and role) whose router's gate skips `access.check_access`, behind a REST API of its own
(`{proxy+}` → the function, LocalStack's API Gateway), and removes both at the end. Nothing in the
service can switch the check off.

Three kinds of request, interleaved round by round (the order rotates) so that drift on this shared
2-core machine falls on all alike, each a `new_episode` event to one e-mail user of its own (one row,
one message, one e-mail: the same work every time):
- `open`: the copy without the check, no key;
- `key`: the stack with the local admin key (no rate limit: a warm request costs no round trip for its
  key, only the hash and the remembered lookup);
- `limited`: the stack with a key made by `POST /keys` with the default 600 a minute (each request also
  counts against the limit in PostgreSQL: one more round trip).
ratio = key p50 ÷ open p50 (target <= 1.15); limited_ratio likewise.

Run with `make bench-auth` (or `.venv/bin/python bench/auth.py [--requests 60]`); needs the stack. The
last line printed is JSON: {"bench": "auth", "requests", "open_p50_ms", "key_p50_ms",
"limited_p50_ms", "ratio", "limited_ratio", ...}.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from notify_dev.benchmarks import StackRun, ensure_stack, percentile, quiet_free_timezone, ratio
from notify_dev.endpoints import LOCALSTACK_URL, REGION, aws
from notify_dev.web import http

STACK_FUNCTION = "notify-ingest"
OPEN_FUNCTION = "notify-bench-open-door"
OPEN_HANDLER = '''"""bench/auth.py's baseline: the ingest function without the API-key check
(never deployed by the template; made and removed by the benchmark)."""

from notify.entrypoints.http import access, api

# The router's gate calls api.check_access(event, scope, keys=…, limits=…, now=…): let everything in.
api.check_access = lambda event, scope, **_: access.Admission()

from app import lambda_handler  # noqa: E402,F401 - the stack's own handler, after the patch
'''


def _open_door_code(location: str) -> bytes:
    """The ingest function's package, with the bench handler added."""
    with urllib.request.urlopen(location, timeout=60) as answer:  # noqa: S310 - LocalStack's S3
        original = answer.read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("bench_open_door.py", OPEN_HANDLER)
    return buffer.getvalue()


@contextmanager
def open_door_api() -> Iterator[str]:
    """The URL of a REST API whose every path goes to the ingest function's copy without the check."""
    lam, gateway = aws("lambda"), aws("apigateway")
    stack = lam.get_function(FunctionName=STACK_FUNCTION)
    config = stack["Configuration"]
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=OPEN_FUNCTION)  # left by an interrupted run
    function = lam.create_function(
        FunctionName=OPEN_FUNCTION,
        Runtime=config["Runtime"],
        Role=config["Role"],
        Handler="bench_open_door.lambda_handler",
        Code={"ZipFile": _open_door_code(stack["Code"]["Location"])},
        Layers=[layer["Arn"] for layer in config.get("Layers", [])],
        # Not the call recorder's: the copy is no function of the stack, whose calls the least-privilege
        # check (tests/least_privilege) judges against the stack's roles.
        Environment={
            "Variables": {
                k: v for k, v in config["Environment"]["Variables"].items() if k != "NOTIFY_AWS_CALL_LOG"
            }
        },
        Timeout=config["Timeout"],
        MemorySize=config["MemorySize"],
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=OPEN_FUNCTION)
    api_id = gateway.create_rest_api(name="notify-bench-open-door")["id"]
    try:
        root = next(r["id"] for r in gateway.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
        proxy = gateway.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
        gateway.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY", authorizationType="NONE")
        gateway.put_integration(
            restApiId=api_id,
            resourceId=proxy,
            httpMethod="ANY",
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
            f"{function['FunctionArn']}/invocations",
        )
        gateway.create_deployment(restApiId=api_id, stageName="v1")
        yield f"{LOCALSTACK_URL}/restapis/{api_id}/v1/_user_request_"
    finally:
        gateway.delete_rest_api(restApiId=api_id)
        lam.delete_function(FunctionName=OPEN_FUNCTION)


def timed_post(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    status, answer = http("POST", f"{url}/events", body, headers, timeout=60)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if status != 202:
        raise SystemExit(f"POST {url}/events answered {status}: {answer}")
    return elapsed_ms, str(answer["event_id"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60, help="measured requests of each kind")
    parser.add_argument("--warmup", type=int, default=5, help="requests of each kind first, not measured")
    args = parser.parse_args(argv)
    requests, warmup = max(1, min(args.requests, 200)), max(1, min(args.warmup, 50))

    endpoints = ensure_stack()
    run, admin = StackRun(endpoints), {"Authorization": f"Bearer {endpoints['api_key']}"}
    stack_url = str(endpoints["api_url"])
    status, limited = http(
        "POST", f"{stack_url}/keys", {"name": f"bench {run.tag}", "scopes": ["events:write"]}, admin
    )
    if status != 201:
        raise SystemExit(f"POST /keys answered {status}: {limited}")
    try:
        users = run.put_users(3 * (requests + warmup), quiet_free_timezone(datetime.now(UTC)), kind="auth")
        movie_id = run.put_movie()
        with open_door_api() as open_url:
            kinds: dict[str, Callable[[dict[str, Any]], tuple[float, str]]] = {
                "open": lambda body: timed_post(open_url, body, {}),
                "key": lambda body: timed_post(stack_url, body, admin),
                "limited": lambda body: timed_post(
                    stack_url, body, {"Authorization": f"Bearer {limited['key']}"}
                ),
            }
            timings: dict[str, list[float]] = {kind: [] for kind in kinds}
            names = list(kinds)
            for round_number in range(warmup + requests):
                order = names[round_number % 3 :] + names[: round_number % 3]
                for kind in order:
                    user = users.pop()
                    body = {
                        "event_type": "new_episode",
                        "created_dt": datetime.now(UTC).isoformat(),
                        "priority": 5,
                        "payload": {"user": [user["user_id"]], "content": [movie_id]},
                    }
                    elapsed_ms, event_id = kinds[kind](body)
                    run.events.append(event_id)
                    if round_number >= warmup:
                        timings[kind].append(elapsed_ms)
    finally:
        http("DELETE", f"{stack_url}/keys/{limited['id']}", None, admin)
        run.clean_up()

    p50 = {kind: percentile(values, 50) for kind, values in timings.items()}
    for kind, values in timings.items():
        print(
            f"{kind:>8}: p50 {p50[kind]:.1f} ms, p90 {percentile(values, 90):.1f} ms, "
            f"mean {statistics.fmean(values):.1f} ms"
        )
    print(
        json.dumps(
            {
                "bench": "auth",
                "requests": requests,
                "open_p50_ms": round(p50["open"], 1),
                "key_p50_ms": round(p50["key"], 1),
                "limited_p50_ms": round(p50["limited"], 1),
                "open_p90_ms": round(percentile(timings["open"], 90), 1),
                "key_p90_ms": round(percentile(timings["key"], 90), 1),
                "ratio": ratio(p50["key"], p50["open"]),
                "limited_ratio": ratio(p50["limited"], p50["open"]),
                "target": 1.15,
            }
        )
    )


if __name__ == "__main__":
    main()
