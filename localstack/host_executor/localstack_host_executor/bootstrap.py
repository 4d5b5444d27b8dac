"""Python Lambda runtime for one execution environment, run as a host process by the host executor.

Started by ``executor.py`` with the function's interpreter, as ``python -u bootstrap.py``; uses the
standard library only, so any python3.x interpreter can run it. It speaks LocalStack's executor
callback protocol (what LocalStack's Go init speaks inside a Lambda container):

* on start: import the handler, then POST ``$LOCALSTACK_RUNTIME_ENDPOINT/status/<runtime id>/ready``,
  or ``.../status/<runtime id>/error`` with an AWS-shaped error body when the import fails;
* it listens for ``POST /invoke`` (``{"invoke-id", "invoked-function-arn", "payload", "trace-id"}``)
  on a socket the executor bound to 127.0.0.1 and passed down, answers 202 at once, runs the handler
  on the main thread and POSTs the result to ``.../invocations/<request id>/response`` or
  ``.../invocations/<request id>/error``.

Logs: stdout and stderr are one pipe read by the executor, which also writes START/END/REPORT; after
each invocation this process writes an end marker into that pipe *before* posting the result, so the
executor knows every line of that invocation has arrived. Timeouts, memory limits and crashes are the
executor's business: it kills this process (its whole process group) and reports the error itself.
"""

from __future__ import annotations

import contextlib
import decimal
import http.client
import http.server
import importlib
import json
import logging
import os
import queue
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from typing import Any

# Marker written to stdout after each invocation; must match executor.END_MARKER.
END_MARKER = "\x1e[host-executor:end:{request_id}]\x1e\n"
ERROR_LINE_SEPARATOR = "\r"  # what AWS' runtime joins multi-line error logs with (one CloudWatch event)


class FaultError(Exception):
    """An init error with a Lambda error type (Runtime.ImportModuleError and the like)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class LambdaContext:
    """The ``context`` argument, with the attributes and method of AWS' Python runtime."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},function_name={self.function_name},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


REQUEST_ID_FILTER = _RequestIdFilter()


def setup_logging() -> None:
    """The root handler AWS' runtime installs: ``[LEVEL]\\ttimestamp\\trequest id\\tmessage``."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.terminator = ""
    handler.addFilter(REQUEST_ID_FILTER)
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())


class CallbackClient:
    """POSTs to LocalStack's executor endpoint (``LOCALSTACK_RUNTIME_ENDPOINT``)."""

    def __init__(self, endpoint: str, runtime_id: str) -> None:
        url = urllib.parse.urlsplit(endpoint)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.prefix = url.path.rstrip("/")
        self.runtime_id = runtime_id

    def post(self, path: str, body: bytes) -> None:
        for attempt in range(5):
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                conn.request("POST", self.prefix + path, body, {"Content-Type": "application/json"})
                conn.getresponse().read()
                return
            except OSError:
                if attempt == 4:
                    raise
                time.sleep(0.05 * 2**attempt)
            finally:
                conn.close()

    def status(self, status: str, body: bytes = b"{}") -> None:
        self.post(f"/status/{self.runtime_id}/{status}", body)

    def result(self, request_id: str, body: bytes, is_error: bool) -> None:
        self.post(f"/invocations/{request_id}/{'error' if is_error else 'response'}", body)


def make_error(message: str, error_type: str, trace: list[str], request_id: str = "") -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace}


def user_trace(tb: Any) -> list[str]:
    """The traceback without this file's frames, as AWS' runtime formats it."""
    frames = traceback.extract_tb(tb)
    frames = traceback.StackSummary.from_list([f for f in frames if f.filename != __file__])
    return traceback.format_list(frames)


def log_error(error: dict[str, Any]) -> None:
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            lines.extend(element.rstrip("\n").splitlines())
    sys.stdout.write(ERROR_LINE_SEPARATOR.join(lines) + "\n")
    sys.stdout.flush()


def load_handler(spec: str) -> Any:
    """Import ``module.function`` (module may use ``/`` for packages), with AWS' error types."""
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {e}") from e
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict", f"Cannot use built-in module {modname} as a handler module"
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultError("Runtime.ImportModuleError", f"Unable to import module '{modname}': {e}") from e
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        raise FaultError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {e}", trace
        ) from e
    try:
        return getattr(module, fname)
    except AttributeError as e:
        raise FaultError("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'") from e


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def mark_end(request_id: str) -> None:
    """Flush what the handler wrote, then the end marker, into the log pipe."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os.write(1, END_MARKER.format(request_id=request_id).encode())


def invoke(handler: Any, request: dict[str, Any], client: CallbackClient, timeout_s: int) -> None:
    request_id = request["invoke-id"]
    REQUEST_ID_FILTER.request_id = request_id
    if request.get("trace-id"):
        os.environ["_X_AMZN_TRACE_ID"] = request["trace-id"]
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    deadline_ms = int(time.time() * 1000) + timeout_s * 1000
    context = LambdaContext(request_id, request.get("invoked-function-arn", ""), deadline_ms)
    try:
        raw = request.get("payload") or ""
        event = json.loads(raw) if raw else {}
        result = handler(event, context)
        try:
            body = json.dumps(result, default=_json_default).encode()
            is_error = False
        except (TypeError, ValueError) as e:
            error = make_error(f"Unable to marshal response: {e}", "Runtime.MarshalError", [], request_id)
            log_error(error)
            body, is_error = json.dumps(error).encode(), True
    except Exception as e:  # noqa: BLE001 - any error of the function is its invocation's result
        error = make_error(str(e), type(e).__name__, user_trace(e.__traceback__), request_id)
        log_error(error)
        body, is_error = json.dumps(error).encode(), True
    mark_end(request_id)
    client.result(request_id, body, is_error)


def serve_invocations(listen_fd: int, requests: queue.Queue[dict[str, Any]]) -> None:
    """Accept ``POST /invoke`` on the socket the executor bound, queue the request, answer 202."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/invoke":
                self.send_response(404)
            else:
                requests.put(json.loads(body))
                self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=listen_fd)
    server.server_address = server.socket.getsockname()
    threading.Thread(target=server.serve_forever, name="invoke-server", daemon=True).start()


def watch_lifeline(fd: int) -> None:
    """Die with the executor: its end of this pipe closes when LocalStack exits, however it exits."""

    def wait() -> None:
        with contextlib.suppress(OSError):
            while os.read(fd, 1):
                pass
        os.killpg(os.getpgrp(), 9)

    threading.Thread(target=wait, name="lifeline", daemon=True).start()


def main() -> None:
    # The executor's private settings; the function must not see them.
    listen_fd = int(os.environ.pop("_LSHE_LISTEN_FD"))
    lifeline_fd = int(os.environ.pop("_LSHE_LIFELINE_FD"))
    extra_path = json.loads(os.environ.pop("_LSHE_SYS_PATH", "[]"))
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # not this package's directory but /var/task (and layers) first, as on AWS
    sys.path[:0] = extra_path
    watch_lifeline(lifeline_fd)

    client = CallbackClient(os.environ["LOCALSTACK_RUNTIME_ENDPOINT"], os.environ["LOCALSTACK_RUNTIME_ID"])
    timeout_s = int(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT") or 3)
    requests: queue.Queue[dict[str, Any]] = queue.Queue()
    serve_invocations(listen_fd, requests)
    setup_logging()

    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except FaultError as e:
        error = make_error(e.message, e.error_type, e.trace)
    except Exception as e:  # noqa: BLE001 - any error at import is the init error
        error = make_error(str(e), type(e).__name__, user_trace(e.__traceback__))
    else:
        error = None
    if error is not None:
        log_error(error)
        client.status("error", json.dumps(error).encode())
        os._exit(1)
    client.status("ready")

    while True:
        invoke(handler, requests.get(), client, timeout_s)


if __name__ == "__main__":
    try:
        main()
    except SystemExit as exit_:
        # sys.exit() in init or a handler ends the environment, as on AWS (Runtime.ExitError);
        # os._exit so that threads the function started cannot keep the process alive.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        code = exit_.code
        os._exit(code if isinstance(code, int) else (0 if code is None else 1))
