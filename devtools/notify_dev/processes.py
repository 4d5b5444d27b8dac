"""`make memory`: the function processes LocalStack's host executor runs, and their resident memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notify_dev.endpoints import ROOT


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _parent(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = _parent(pid)
    return False


def function_processes() -> dict[str, list[int]]:
    """The pids of the function processes LocalStack's host executor runs, by function name: its
    descendants whose environment names a Lambda function (one per execution environment)."""
    pid = int((ROOT / ".local" / "localstack.pid").read_text())
    functions: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if not _descends_from(int(entry.name), pid):
                continue
        except OSError:
            continue
        for variable in environ:
            if variable.startswith(b"AWS_LAMBDA_FUNCTION_NAME="):
                name = variable.split(b"=", 1)[1].decode()
                functions.setdefault(name, []).append(int(entry.name))
    return functions


def memory() -> dict[str, Any]:
    """Resident memory of LocalStack (the process localstack/stack.sh started) and of each function
    process its host executor runs."""
    pid = int((ROOT / ".local" / "localstack.pid").read_text())
    functions: dict[str, list[float]] = {}
    for name, pids in function_processes().items():
        functions[name] = [_rss_mb(process) for process in pids]
    return {
        "localstack_rss_mb": _rss_mb(pid),
        "function_processes": {name: sorted(sizes) for name, sizes in sorted(functions.items())},
        "function_processes_total_mb": round(sum(sum(sizes) for sizes in functions.values()), 1),
    }
