"""The host-process Lambda executor, through LocalStack's Lambda API as boto3 sees it."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from conftest import CLIENT_KW, function_pids, make_zip, wait_for

ECHO = """
import os

def handler(event, context):
    print("echo", event)
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "arn": context.invoked_function_arn,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "env": dict(os.environ),
    }
"""


def invoke(lam: Any, name: str, event: Any = None) -> tuple[str | None, Any, str]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), LogType="Tail")
    payload = json.loads(response["Payload"].read() or b"null")
    logs = base64.b64decode(response.get("LogResult", "")).decode()
    return response.get("FunctionError"), payload, logs


def test_create_and_invoke(lam, make_function):
    name = make_function({"app.py": ECHO}, Environment={"Variables": {"GREETING": "hello"}}, MemorySize=256)

    error, out, logs = invoke(lam, name, {"n": 1})

    assert error is None, out
    assert out["event"] == {"n": 1}
    assert out["function_name"] == name
    assert out["memory"] == "256"
    assert out["arn"].endswith(f":function:{name}")
    assert 0 < out["remaining_ms"] <= 3000
    env = out["env"]
    assert env["GREETING"] == "hello"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_ACCESS_KEY_ID"]
    assert env["AWS_SECRET_ACCESS_KEY"]
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["LAMBDA_TASK_ROOT"] == out["cwd"]
    assert (Path(out["cwd"]) / "app.py").is_file()
    # none of LocalStack's own settings, nor the executor's private ones, leak into the function
    assert not {"GATEWAY_LISTEN", "SERVICES", "LAMBDA_RUNTIME_EXECUTOR", "FILESYSTEM_ROOT"} & env.keys()
    assert not [key for key in env if key.startswith("_LSHE_")]
    assert f"START RequestId: {out['request_id']}" in logs
    assert "echo {'n': 1}" in logs
    assert "Init Duration:" in logs

    error, again, logs = invoke(lam, name, {"n": 2})
    assert error is None
    assert again["pid"] == out["pid"], "a warm invoke reuses the process"
    assert "Init Duration:" not in logs
    assert f"REPORT RequestId: {again['request_id']}\tDuration:" in logs


def test_function_calls_localstack_with_boto3(lam, make_function, aws):
    queue_url = aws("sqs").create_queue(QueueName=f"hx-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    name = make_function(
        {
            "app.py": """
            import boto3

            def handler(event, context):
                sqs = boto3.client("sqs")  # endpoint, region and credentials from the environment
                sqs.send_message(QueueUrl=event["queue_url"], MessageBody="from lambda")
                return "sent"
            """
        }
    )
    error, out, _ = invoke(lam, name, {"queue_url": queue_url})
    assert (error, out) == (None, "sent")
    messages = aws("sqs").receive_message(QueueUrl=queue_url, WaitTimeSeconds=2)["Messages"]
    assert messages[0]["Body"] == "from lambda"


def test_timeout_gives_lambdas_error_and_next_invoke_works(lam, make_function):
    name = make_function(
        {
            "app.py": """
            import time

            def handler(event, context):
                print("going to sleep")
                time.sleep(event.get("sleep", 0))
                return "awake"
            """
        },
        Timeout=1,
    )
    started = time.monotonic()
    error, out, logs = invoke(lam, name, {"sleep": 10})
    elapsed = time.monotonic() - started

    assert error == "Unhandled"
    assert out["errorType"] == "Sandbox.Timedout"
    assert out["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert elapsed < 4
    assert "going to sleep" in logs
    assert "Task timed out after 1.00 seconds" in logs
    assert "Status: timeout" in logs

    error, out, logs = invoke(lam, name, {"sleep": 0})
    assert (error, out) == (None, "awake")
    assert "Init Duration:" in logs, "a timed-out environment starts anew"


def test_handler_exception_reports_error_and_keeps_process(lam, make_function):
    name = make_function(
        {
            "app.py": """
            import os

            def handler(event, context):
                if event.get("fail"):
                    raise ValueError("bad input")
                return os.getpid()
            """
        }
    )
    _, pid, _ = invoke(lam, name)
    error, out, logs = invoke(lam, name, {"fail": True})
    assert error == "Unhandled"
    assert out["errorType"] == "ValueError"
    assert out["errorMessage"] == "bad input"
    assert any('app.py", line 6, in handler' in line for line in out["stackTrace"])
    assert "[ERROR] ValueError: bad input" in logs
    error, again, _ = invoke(lam, name)
    assert (error, again) == (None, pid), "an exception does not end the environment"


def test_sys_exit_in_handler_then_next_invoke_works(lam, make_function):
    name = make_function(
        {
            "app.py": """
            import os, sys

            def handler(event, context):
                if event.get("exit"):
                    print("exiting")
                    sys.exit(2)
                return os.getpid()
            """
        }
    )
    _, first_pid, _ = invoke(lam, name)
    error, out, logs = invoke(lam, name, {"exit": True})
    assert error == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError"
    assert out["errorMessage"].endswith("Error: Runtime exited with error: exit status 2")
    assert "exiting" in logs

    error, pid, logs = invoke(lam, name)
    assert error is None
    assert pid != first_pid
    assert "Init Duration:" in logs


def _crash_once_at_import(tmp_path: Path, crash: str) -> dict[str, str]:
    """A module that crashes at import the first time only (a flag file on the host tells)."""
    return {
        "app.py": f"""
        import os, sys
        FLAG = {str(tmp_path / "crashed")!r}
        if not os.path.exists(FLAG):
            open(FLAG, "w").close()
            print("crashing at import")
            {crash}

        def handler(event, context):
            return "recovered"
        """
    }


def log_messages(aws: Any, function_name: str, *, containing: str) -> list[str]:
    """The function's CloudWatch log lines, once one contains ``containing``."""
    logs = aws("logs")

    def messages() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function_name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        found = [event["message"] for event in events]
        return found if any(containing in message for message in found) else []

    return list(wait_for(messages, timeout=15))


def test_exception_at_import_reports_error_and_next_invoke_works(lam, make_function, tmp_path, aws):
    name = make_function(_crash_once_at_import(tmp_path, 'raise RuntimeError("no config")'))
    error, out, _ = invoke(lam, name)
    assert error == "Unhandled"
    assert out["errorType"] == "RuntimeError"
    assert out["errorMessage"] == "no config"
    assert invoke(lam, name)[:2] == (None, "recovered")

    found = log_messages(aws, name, containing="INIT_REPORT")
    assert "crashing at import\n" in found
    assert any(line.startswith("[ERROR] RuntimeError: no config") for line in found)
    assert any(line.endswith("Status: error\tError Type: RuntimeError\n") for line in found)


def test_sys_exit_at_import_reports_error_and_next_invoke_works(lam, make_function, tmp_path):
    name = make_function(_crash_once_at_import(tmp_path, "sys.exit(3)"))
    error, out, _ = invoke(lam, name)
    assert error == "Unhandled"
    assert out["errorType"] == "Runtime.ExitError"
    assert out["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert invoke(lam, name)[:2] == (None, "recovered")


def test_missing_module_and_handler(lam, make_function):
    missing_module = make_function({"app.py": "import not_installed_anywhere\n"})
    error, out, _ = invoke(lam, missing_module)
    assert error == "Unhandled"
    assert out["errorType"] == "Runtime.ImportModuleError"
    assert out["errorMessage"] == "Unable to import module 'app': No module named 'not_installed_anywhere'"

    missing_handler = make_function({"app.py": "x = 1\n"}, handler="app.nope")
    error, out, _ = invoke(lam, missing_handler)
    assert error == "Unhandled"
    assert out["errorType"] == "Runtime.HandlerNotFound"


def test_concurrent_invokes_all_succeed(lam, make_function):
    name = make_function(
        {
            "app.py": """
            import os, time

            def handler(event, context):
                time.sleep(1)
                return {"n": event["n"], "pid": os.getpid()}
            """
        },
        Timeout=10,
    )
    started = time.monotonic()
    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda n: invoke(lam, name, {"n": n}), range(5)))
    elapsed = time.monotonic() - started

    assert [error for error, _, _ in results] == [None] * 5
    assert sorted(out["n"] for _, out, _ in results) == [0, 1, 2, 3, 4]
    assert len({out["pid"] for _, out, _ in results}) == 5, "one environment (process) per concurrent invoke"
    assert elapsed < 4.5


def test_functions_do_not_see_each_others_environment(lam, make_function):
    first = make_function({"app.py": ECHO}, Environment={"Variables": {"SHARED": "one", "ONLY_FIRST": "1"}})
    second = make_function({"app.py": ECHO}, Environment={"Variables": {"SHARED": "two"}})

    _, out1, _ = invoke(lam, first)
    _, out2, _ = invoke(lam, second)

    assert out1["env"]["SHARED"] == "one"
    assert out2["env"]["SHARED"] == "two"
    assert "ONLY_FIRST" not in out2["env"]
    assert out1["env"]["AWS_LAMBDA_FUNCTION_NAME"] == first
    assert out2["env"]["AWS_LAMBDA_FUNCTION_NAME"] == second
    assert out1["cwd"] != out2["cwd"]
    assert out1["env"]["TMPDIR"] != out2["env"]["TMPDIR"]


def test_logs_reach_cloudwatch(lam, make_function, aws):
    name = make_function(
        {
            "app.py": """
            import logging
            logger = logging.getLogger()
            logger.setLevel(logging.INFO)

            def handler(event, context):
                print("printed", event["token"])
                logger.info("logged %s", event["token"])
                return "ok"
            """
        }
    )
    token = uuid.uuid4().hex
    _, out, _ = invoke(lam, name, {"token": token})
    assert out == "ok"

    found = log_messages(aws, name, containing="REPORT RequestId")
    assert any(message.startswith("START RequestId:") for message in found)
    assert f"printed {token}\n" in found
    assert any(message.startswith("[INFO]\t") and message.endswith(f"logged {token}\n") for message in found)


def test_memory_limit_kills_function(lam, make_function):
    name = make_function(
        {
            "app.py": """
            import time

            def handler(event, context):
                hog = bytearray(event["mb"] * 1024 * 1024)
                hog[::4096] = b"x" * len(hog[::4096])  # touch every page: resident, not just reserved
                time.sleep(0.5)
                return len(hog)
            """
        },
        MemorySize=128,
        Timeout=10,
    )
    assert invoke(lam, name, {"mb": 40})[:2] == (None, 40 * 1024 * 1024)
    error, out, logs = invoke(lam, name, {"mb": 300})
    assert error == "Unhandled"
    assert out["errorType"] == "Runtime.OutOfMemory"
    used = re.search(r"Max Memory Used: (\d+) MB", logs)
    assert used is not None, logs
    assert int(used.group(1)) >= 128  # killed at the limit, reported as reached (how far past it varies)
    assert invoke(lam, name, {"mb": 1})[0] is None


def test_layers_are_on_the_path(lam, make_function):
    layer = lam.publish_layer_version(
        LayerName=f"hx-{uuid.uuid4().hex[:8]}",
        Content={
            "ZipFile": make_zip(
                {
                    "python/shared_helper.py": "WHO = 'layer python/'\n",
                    "python/lib/python3.13/site-packages/vendored_lib.py": "WHO = 'layer site-packages'\n",
                }
            )
        },
        CompatibleRuntimes=["python3.13"],
    )
    name = make_function(
        {
            "app.py": """
            import shared_helper, vendored_lib

            def handler(event, context):
                return [shared_helper.WHO, vendored_lib.WHO]
            """
        },
        Layers=[layer["LayerVersionArn"]],
    )
    assert invoke(lam, name)[:2] == (None, ["layer python/", "layer site-packages"])


def test_deleting_a_function_ends_its_processes(lam, make_function):
    name = make_function({"app.py": ECHO})
    _, out, _ = invoke(lam, name)
    assert function_pids(name) == [out["pid"]]
    lam.delete_function(FunctionName=name)
    wait_for(lambda: not function_pids(name), timeout=10)


def test_updated_code_is_used(lam, make_function):
    name = make_function({"app.py": "def handler(event, context):\n    return 'v1'\n"})
    assert invoke(lam, name)[:2] == (None, "v1")
    lam.update_function_code(
        FunctionName=name, ZipFile=make_zip({"app.py": "def handler(event, context):\n    return 'v2'\n"})
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
    assert invoke(lam, name)[:2] == (None, "v2")


def test_hot_reloaded_code_from_a_host_directory(lam, make_function, tmp_path):
    app = tmp_path / "app.py"
    app.write_text("def handler(event, context):\n    return 'first'\n")
    name = make_function({}, Code={"S3Bucket": "hot-reload", "S3Key": str(tmp_path)})
    assert invoke(lam, name)[:2] == (None, "first")
    assert invoke(lam, name)[2].count("Init Duration") == 0

    app.write_text("def handler(event, context):\n    return 'second, edited'\n")
    error, out, logs = invoke(lam, name)
    assert (error, out) == (None, "second, edited")
    assert "Init Duration" in logs


def test_async_invoke_failure_goes_to_dead_letter_queue(lam, make_function, aws):
    sqs = aws("sqs")
    queue_url = sqs.create_queue(QueueName=f"hx-dlq-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    name = make_function(
        {"app.py": "def handler(event, context):\n    raise RuntimeError('async boom')\n"},
        DeadLetterConfig={"TargetArn": queue_arn},
    )
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 7}')["StatusCode"] == 202

    def dead_letters() -> list[dict[str, Any]]:
        return list(sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []))

    (message,) = wait_for(dead_letters, timeout=30)
    assert json.loads(message["Body"]) == {"n": 7}


def test_unsupported_runtime_fails_invokes_with_a_clear_message(lam):
    name = f"hx-node-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="nodejs20.x",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="index.handler",
        Code={"ZipFile": make_zip({"index.js": "exports.handler = async () => 1;\n"})},
    )
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
        no_retries = boto3.client("lambda", config=Config(retries={"max_attempts": 0}), **CLIENT_KW)
        with pytest.raises(no_retries.exceptions.ServiceException, match=r"Python runtimes only"):
            no_retries.invoke(FunctionName=name, Payload=b"{}")
    finally:
        lam.delete_function(FunctionName=name)  # deletable, unlike a version that failed to prepare
