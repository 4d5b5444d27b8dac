"""LocalStack Lambda runtime executor that runs each execution environment as a host process.

LocalStack picks it with ``LAMBDA_RUNTIME_EXECUTOR=host`` (see ``plugin.py``). One environment is one
process: the function's Python interpreter running ``bootstrap.py`` with the function's unpacked code
as working directory and first on ``sys.path``, its layers' ``python/`` directories after it (where
``/opt/python`` would put them), and the environment variables LocalStack computes for a Lambda
container (function variables, AWS_ENDPOINT_URL, AWS_REGION, credentials, AWS_LAMBDA_*), with the
container paths rewritten to the host's.

Settings (environment of the LocalStack process):

* ``LAMBDA_HOST_PYTHON_<X>_<Y>``: interpreter for runtime ``pythonX.Y`` (default: ``pythonX.Y`` on
  PATH unless it is a pyenv shim, else ``~/.pyenv/versions/X.Y.*/bin/pythonX.Y``).
* ``LAMBDA_HOST_MEMORY_LIMIT``: ``watchdog`` (default) kills an environment whose resident memory
  exceeds the function's MemorySize (``Runtime.OutOfMemory``); ``off`` only measures.

What the executor enforces itself, since nothing in the process does:

* the timeout: it waits for the result for the function's Timeout, then kills the process group and
  answers ``Sandbox.Timedout`` as LocalStack's init does; the next invoke starts a new process;
* crashes: a process that exits during init or an invocation yields ``Runtime.ExitError`` (the next
  invoke starts a new process);
* memory, see above; and the logs: stdout and stderr are one pipe, cut per invocation at the marker
  the bootstrap writes, framed with START/END/REPORT and handed to LocalStack, which stores them in
  CloudWatch Logs.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import http.client
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeoutError
from http import HTTPStatus
from pathlib import Path
from typing import IO

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.strings import to_str
from werkzeug import Request

LOG = logging.getLogger(__name__)

BOOTSTRAP = str(Path(__file__).with_name("bootstrap.py"))
END_MARKER = "\x1e[host-executor:end:{request_id}]\x1e\n"  # bootstrap.END_MARKER
LOG_TAIL_BYTES = 256 * 1024
MARKER_WAIT_S = 2.0
WATCH_INTERVAL_S = 0.05
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def resolve_python(runtime: str) -> str:
    """The interpreter for a ``pythonX.Y`` runtime on this host."""
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime or "")
    if not match:
        raise LambdaRuntimeException(
            f"Runtime {runtime!r} is not supported by the host executor (Python runtimes only)"
        )
    major, minor = match.groups()
    version = f"{major}.{minor}"
    configured = os.environ.get(f"LAMBDA_HOST_PYTHON_{major}_{minor}")
    if configured:
        if not os.access(configured, os.X_OK):
            raise LambdaRuntimeException(
                f"LAMBDA_HOST_PYTHON_{major}_{minor}={configured} is not an executable file"
            )
        return configured
    found = shutil.which(f"python{version}")
    if found and "/shims/" not in found:
        return found
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    if candidates:
        return candidates[-1]
    raise LambdaRuntimeException(
        f"No python{version} interpreter on this host for runtime {runtime}: "
        f"set LAMBDA_HOST_PYTHON_{major}_{minor} to its path"
    )


class OutputCollector:
    """Reads an environment's stdout+stderr pipe; hands out what one invocation wrote."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._tail = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._generation = 0

    def new_process(self) -> int:
        """Start collecting for a new process; returns the generation its reader passes to feed_from."""
        with self._cond:
            self._generation += 1
            self._eof = False
            return self._generation

    def feed_from(self, stream: IO[bytes], generation: int) -> None:  # the reader thread, until EOF
        try:
            while chunk := stream.read1(65536):  # type: ignore[attr-defined]
                with self._cond:
                    self._buffer += chunk
                    self._tail += chunk
                    del self._tail[:-LOG_TAIL_BYTES]
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                if generation == self._generation:  # not a previous process' late EOF
                    self._eof = True
                self._cond.notify_all()

    def take(self, request_id: str | None, wait_s: float) -> str:
        """Everything up to the end marker of ``request_id`` (or all of it, once the process ended)."""
        marker = END_MARKER.format(request_id=request_id).encode() if request_id else None
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                if marker is not None and (pos := self._buffer.find(marker)) >= 0:
                    out = bytes(self._buffer[:pos])
                    del self._buffer[: pos + len(marker)]
                    break
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    out = bytes(self._buffer)
                    self._buffer.clear()
                    break
                self._cond.wait(remaining)
        return out.decode("utf-8", errors="replace")

    def tail(self) -> str:
        with self._cond:
            return bytes(self._tail).decode("utf-8", errors="replace")


class HostExecutorEndpoint(ExecutorEndpoint):
    """LocalStack's endpoint, made safe against late or duplicate callbacks of a killed process."""

    current_request_id: str | None = None

    def _complete(self, req_id: str, data: bytes, is_error: bool) -> Response:
        future = self.invocation_future
        if future is None or req_id != self.current_request_id:
            LOG.debug("Ignoring result for %s: not the current invocation of %s", req_id, self.executor_id)
        else:
            with contextlib.suppress(InvalidStateError):
                future.set_result(InvocationResult(req_id, data, is_error=is_error, logs=None))
        return Response(status=HTTPStatus.ACCEPTED)

    def invocation_response(self, request: Request, req_id: str) -> Response:
        return self._complete(req_id, request.data, is_error=False)

    def invocation_error(self, request: Request, req_id: str) -> Response:
        return self._complete(req_id, request.data, is_error=True)

    def status_ready(self, request: Request, executor_id: str) -> Response:
        with contextlib.suppress(InvalidStateError):
            self.startup_future.set_result(True)
        return Response(status=HTTPStatus.ACCEPTED)

    def status_error(self, request: Request, executor_id: str) -> Response:
        LOG.debug("Execution environment %s: init failed: %s", executor_id, to_str(request.data))
        self.fail_startup(request.data)
        return Response(status=HTTPStatus.ACCEPTED)

    def fail_startup(self, payload: bytes) -> None:
        with contextlib.suppress(InvalidStateError):
            self.startup_future.set_exception(StatusErrorException("Environment startup failed", payload))


class HostRuntimeExecutor(RuntimeExecutor):
    """One Lambda execution environment = one host process (see the module docstring)."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.endpoint = HostExecutorEndpoint(self.id, container_address="127.0.0.1")
        self._lock = threading.Lock()  # serialises start/restart/stop against invoke
        self._proc: subprocess.Popen[bytes] | None = None
        self._lifeline_w: int | None = None
        self._output = OutputCollector()
        self._env: dict[str, str] = {}
        self._workdir = Path(config.dirs.tmp) / "lambda-host" / self.id
        # why the executor killed a process; guarded by _state_lock, like the choice of current process
        self._kill_reasons: dict[subprocess.Popen[bytes], str] = {}
        self._state_lock = threading.Lock()
        self._stopping = False
        self._peak_rss = 0
        self._init_started = 0.0
        self._init_ms: float | None = None
        self._memory_mb = int(function_version.config.memory_size or 128)
        self._timeout_s = int(function_version.config.timeout or 3)
        self._enforce_memory = os.environ.get("LAMBDA_HOST_MEMORY_LIMIT", "watchdog").lower() != "off"
        # code mounted from the host (S3Bucket "hot-reload"): a changed file means a new process
        cfg = function_version.config
        self._hot_dirs = [
            str(code.get_unzipped_code_location())
            for code in [cfg.code, *(layer.code for layer in cfg.layers or [])]
            if code is not None and code.is_hot_reloading()
        ]
        self._code_stamp = 0

    # --- RuntimeExecutor interface -------------------------------------------------------------

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://127.0.0.1:{port}{self.endpoint.get_endpoint_prefix()}"

    def start(self, env_vars: dict[str, str]) -> None:
        self._env = self._process_env(env_vars)
        self.endpoint.start()
        with self._lock:
            self._spawn()
        try:
            self.endpoint.wait_for_startup()
        except StatusErrorException as e:  # an init error: LocalStack stores no logs for it, so we do
            logs = self._init_failure_logs(e.payload)
            LOG.warning("Execution environment %s failed to start; its output:\n%s", self.id, logs.rstrip())
            threading.Thread(target=self._store_logs, args=(logs,), daemon=True).start()
            raise
        self._init_ms = (time.monotonic() - self._init_started) * 1000

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._kill("stop")
            if self._lifeline_w is not None:
                with contextlib.suppress(OSError):
                    os.close(self._lifeline_w)
                self._lifeline_w = None
        try:
            self.endpoint.shutdown()
        except Exception as e:  # noqa: BLE001 - stopping must go on; LocalStack's docker executor does the same
            LOG.debug("Error shutting down the endpoint of %s: %s", self.id, e)
        shutil.rmtree(self._workdir, ignore_errors=True)

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        with self._lock:
            if self._hot_dirs and self._proc is not None and self._code_stamp != self._stamp_code():
                LOG.debug("Code of %s changed on disk: starting it anew", self.id)
                self._kill("reload")
            if self._proc is None or self._proc.poll() is not None:
                try:
                    self._restart()
                except StatusErrorException as e:
                    logs = self._init_failure_logs(e.payload)
                    return InvocationResult(request_id, e.payload, is_error=True, logs=logs)
            init_ms, self._init_ms = self._init_ms, None
            future: Future[InvocationResult] = Future()
            self.endpoint.current_request_id = request_id
            self.endpoint.invocation_future = future
        started = time.monotonic()
        try:
            self._send(payload)
        except OSError as e:
            self._kill("send-failed")
            raise LambdaRuntimeException(f"Could not send invocation {request_id} to {self.id}: {e}") from e

        timed_out = False
        try:
            result = future.result(timeout=self._timeout_s)
        except FutureTimeoutError:
            timed_out = True
            self._kill("timeout")
            result = InvocationResult(
                request_id,
                _error_payload(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {self._timeout_s}.00 seconds",
                ),
                is_error=True,
                logs=None,
            )
        duration_ms = (time.monotonic() - started) * 1000
        self.endpoint.current_request_id = None

        output = self._output.take(request_id, MARKER_WAIT_S)
        if output and not output.endswith("\n"):
            output += "\n"
        if timed_out:
            stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
            output += f"{stamp}Z {request_id} Task timed out after {self._timeout_s}.00 seconds\n"
        result.logs = self._frame_logs(request_id, output, duration_ms, init_ms, timed_out)
        return result

    def get_logs(self) -> str:
        return self._output.tail()

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        cfg = function_version.config
        if cfg.package_type != PackageType.Zip or not cfg.code:
            raise LambdaRuntimeException("The host executor runs Zip functions only, not container images")
        try:
            resolve_python(cfg.runtime)
        except LambdaRuntimeException as e:
            # Not raised here: a version that fails to prepare cannot be deleted in LocalStack 2026.3
            # ("Unable to find version manager"); invokes fail with this message instead.
            LOG.warning("%s: %s", function_version.qualified_arn, e)
        cfg.code.prepare_for_execution()
        for layer in cfg.layers or []:
            if layer.code:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return True

    # --- process handling ------------------------------------------------------------------------

    def _process_env(self, env_vars: dict[str, str]) -> dict[str, str]:
        cfg = self.function_version.config
        python = resolve_python(cfg.runtime)
        version = cfg.runtime.removeprefix("python")
        code_dir = str(cfg.code.get_unzipped_code_location())
        layer_dirs = [
            str(layer.code.get_unzipped_code_location()) for layer in cfg.layers or [] if layer.code
        ]
        layer_dirs.reverse()  # a later layer overwrites an earlier one in /opt
        sys_path = [code_dir]
        for layer in layer_dirs:
            sys_path += [f"{layer}/python/lib/python{version}/site-packages", f"{layer}/python"]

        tmp = self._workdir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        path = [f"{layer}/bin" for layer in layer_dirs] + [
            os.path.dirname(python),
            "/usr/local/bin",
            "/usr/bin",
            "/bin",
        ]
        env = {
            "PATH": ":".join(path),
            "LANG": "C.UTF-8",
            "TMPDIR": str(tmp),
            # the host's ~/.aws must not leak in: credentials and endpoint come from the variables below
            "AWS_CONFIG_FILE": str(self._workdir / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self._workdir / "aws-credentials"),
        }
        if layer_dirs:
            env["LD_LIBRARY_PATH"] = ":".join(f"{layer}/lib" for layer in layer_dirs)
        env.update({key: str(value) for key, value in env_vars.items()})
        env["LAMBDA_TASK_ROOT"] = code_dir
        env["LAMBDA_RUNTIME_DIR"] = os.path.dirname(BOOTSTRAP)
        if env.get("AWS_EXECUTION_ENV") == "AWS_Lambda_rapid":
            env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{cfg.runtime}"
        env["_LSHE_SYS_PATH"] = json.dumps(sys_path)
        env["_LSHE_PYTHON"] = python
        return env

    def _spawn(self) -> None:
        env = dict(self._env)
        python = env.pop("_LSHE_PYTHON")
        listener = socket.create_server(("127.0.0.1", 0))
        lifeline_r, lifeline_w = os.pipe()
        env["_LSHE_LISTEN_FD"] = str(listener.fileno())
        env["_LSHE_LIFELINE_FD"] = str(lifeline_r)
        self._peak_rss = 0
        generation = self._output.new_process()
        if self._hot_dirs:
            self._code_stamp = self._stamp_code()
        self._init_started = time.monotonic()
        try:
            proc = subprocess.Popen(  # noqa: S603 - the function's interpreter, LocalStack's own inputs
                [python, "-u", BOOTSTRAP],
                cwd=env["LAMBDA_TASK_ROOT"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(), lifeline_r),
                start_new_session=True,
            )
        finally:
            os.close(lifeline_r)
            self.endpoint.container_port = listener.getsockname()[1]
            listener.close()
        with self._state_lock:
            self._proc = proc
        self._lifeline_w = lifeline_w
        threading.Thread(
            target=self._output.feed_from,
            args=(proc.stdout, generation),
            name=f"lambda-host-out-{self.id}",
            daemon=True,
        ).start()
        threading.Thread(
            target=self._watch, args=(proc,), name=f"lambda-host-watch-{self.id}", daemon=True
        ).start()
        LOG.debug("Started %s for %s as pid %s", self.id, self.function_version.qualified_arn, proc.pid)

    def _restart(self) -> None:
        """A new process after a crash or timeout: init again (its duration goes into REPORT)."""
        if self._lifeline_w is not None:
            with contextlib.suppress(OSError):
                os.close(self._lifeline_w)
        with self._state_lock:
            if self._proc is not None:  # its end, however it came, is no error of the new one
                self._kill_reasons.setdefault(self._proc, "replaced")
            self.endpoint.startup_future = Future()
        self._spawn()
        try:
            self.endpoint.startup_future.result(timeout=config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)
            self._init_ms = (time.monotonic() - self._init_started) * 1000
        except FutureTimeoutError:
            self._kill("init-timeout")
            raise StatusErrorException(
                "Environment startup timed out",
                _error_payload("Runtime.Unknown", "Execution environment timed out during startup"),
            ) from None

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        """Until the process ends: sample its memory (kill it above MemorySize); then report its end."""
        statm = f"/proc/{proc.pid}/statm"
        limit = self._memory_mb * 1024 * 1024
        while True:
            try:
                code = proc.wait(timeout=WATCH_INTERVAL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            try:
                with open(statm) as f:
                    rss = int(f.read().split()[1]) * PAGE_SIZE
            except (OSError, ValueError, IndexError):
                continue
            if proc is self._proc:
                self._peak_rss = max(self._peak_rss, rss)
            if self._enforce_memory and rss > limit and proc not in self._kill_reasons:
                LOG.warning("Lambda %s used %d MB > %d MB: killing it", self.id, rss >> 20, self._memory_mb)
                self._kill("oom", proc)
        # leftovers of the function (its own subprocesses) go with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with self._state_lock:
            reason = self._kill_reasons.pop(proc, None)
            if self._stopping or proc is not self._proc or reason not in (None, "oom"):
                return  # invoke() reports a timeout itself; a reload or replacement is no error
            self._report_end(code, reason)

    def _report_end(self, code: int, reason: str | None) -> None:
        """The current process ended unasked (or for memory): fail its start-up or its invocation."""
        request_id = self.endpoint.current_request_id or ""
        if reason == "oom":
            error_type, detail = "Runtime.OutOfMemory", "Runtime exited with error: signal: killed"
        elif code == 0:
            error_type, detail = "Runtime.ExitError", "Runtime exited without providing a reason"
        elif code < 0:
            try:
                name = signal.Signals(-code).name.lower().removeprefix("sig")
            except ValueError:
                name = str(-code)
            error_type, detail = "Runtime.ExitError", f"Runtime exited with error: signal: {name}"
        else:
            error_type, detail = "Runtime.ExitError", f"Runtime exited with error: exit status {code}"
        payload = _error_payload(error_type, f"RequestId: {request_id} Error: {detail}")
        startup = self.endpoint.startup_future
        if startup is not None and not startup.done():
            self.endpoint.fail_startup(payload)
            return
        future = self.endpoint.invocation_future
        if future is not None and request_id:
            with contextlib.suppress(InvalidStateError):
                future.set_result(InvocationResult(request_id, payload, is_error=True, logs=None))

    def _kill(self, reason: str, proc: subprocess.Popen[bytes] | None = None) -> None:
        proc = proc or self._proc
        if proc is None or proc.poll() is not None:
            return
        with self._state_lock:
            self._kill_reasons.setdefault(proc, reason)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def _send(self, payload: dict[str, str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.endpoint.container_port, timeout=10)
        try:
            conn.request(
                "POST", "/invoke", json.dumps(payload).encode(), {"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            response.read()
            if response.status != HTTPStatus.ACCEPTED:
                raise OSError(f"runtime answered {response.status}")
        finally:
            conn.close()

    def _init_failure_logs(self, payload: bytes) -> str:
        """What the process wrote before it failed to start, framed as AWS frames a failed init."""
        output = self._output.take(None, 1.0)  # the process is ending: wait for the pipe's EOF
        if output and not output.endswith("\n"):
            output += "\n"
        try:
            error_type = json.loads(payload).get("errorType", "Runtime.Unknown")
        except (ValueError, AttributeError):
            error_type = "Runtime.Unknown"
        duration_ms = (time.monotonic() - self._init_started) * 1000
        return (
            f"INIT_START Runtime Version: {self.function_version.config.runtime}\n{output}"
            f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: init\tStatus: error\t"
            f"Error Type: {error_type}\n"
        )

    def _store_logs(self, text: str) -> None:
        """Put lines into the function's CloudWatch log group, in this environment's stream."""
        from localstack.aws.connect import connect_to
        from localstack.utils.aws.client_types import ServicePrincipal
        from localstack.utils.bootstrap import is_api_enabled

        if not is_api_enabled("logs"):
            return
        version = self.function_version
        group = f"/aws/lambda/{version.id.function_name}"
        stream = f"{datetime.date.today():%Y/%m/%d}/[{version.id.qualifier}]{self.id}"
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line + "\n"} for line in text.split("\n") if line]
        try:
            client = connect_to.with_assumed_role(
                region_name=version.id.region,
                role_arn=version.config.role,
                service_principal=ServicePrincipal.lambda_,
            ).logs
            with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
                client.create_log_group(logGroupName=group)
            with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
                client.create_log_stream(logGroupName=group, logStreamName=stream)
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        except Exception as e:  # noqa: BLE001 - best effort, in a background thread
            LOG.debug("Could not store the init logs of %s: %s", self.id, e)

    def _stamp_code(self) -> int:
        """A number that changes when a file under the hot-reloaded directories changes."""
        stamp = 0
        for top in self._hot_dirs:
            for root, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
                for name in files:
                    with contextlib.suppress(OSError):
                        stat = os.stat(os.path.join(root, name))
                        stamp = hash((stamp, root, name, stat.st_mtime_ns, stat.st_size))
        return stamp

    def _hwm(self) -> int:
        """Peak resident memory of the process so far (VmHWM), 0 once it is gone."""
        proc = self._proc
        if proc is None:
            return 0
        with contextlib.suppress(OSError, ValueError), open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _frame_logs(
        self, request_id: str, output: str, duration_ms: float, init_ms: float | None, timed_out: bool
    ) -> str:
        version = self.function_version.id.qualifier
        used_mb = math.ceil(max(self._peak_rss, self._hwm()) / (1024 * 1024))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {self._memory_mb} MB\t"
            f"Max Memory Used: {used_mb} MB"
        )
        if init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        if timed_out:
            report += "\tStatus: timeout"
        start = f"START RequestId: {request_id} Version: {version}\n"
        return f"{start}{output}END RequestId: {request_id}\n{report}\n"
