"""GET /health: the service's parts probed at most once per cache period per execution environment, so
that a public, unauthenticated route costs no database or broker round trip per request."""

import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol


class Probe(Protocol):
    def check(self) -> None:
        """Raise if the part does not answer."""
        ...


class DeadLetters(Protocol):
    """The broker's dead-letter queues (what can never be processed, kept for an operator) and what
    their queues still hold."""

    def depths(self) -> dict[str, int]:
        """Messages in each DLQ, by the DLQ's name; BrokerUnavailable when the broker does not answer."""
        ...

    def backlog(self) -> dict[str, int]:
        """Messages each queue still holds, waiting, in flight or delayed, by the queue's name (its
        DLQ not counted); BrokerUnavailable when the broker does not answer."""
        ...

    def redrive(self, queue: str) -> int:
        """Move the messages of `queue`'s DLQ back to `queue`; how many moved."""
        ...


class Resolved:
    """A probe found when it is checked: a part whose very construction fails (a store that checks its
    schema on creation, with the database down) is reported unavailable, like one that does not answer."""

    def __init__(self, find: Callable[[], Probe]) -> None:
        self._find = find

    def check(self) -> None:
        self._find().check()


@dataclass(frozen=True)
class HealthReport:
    checks: dict[str, str]  # part -> "ok" or "unavailable: <error type>"
    details: dict[str, Any] = field(default_factory=dict)  # what the parts that answered told

    @property
    def healthy(self) -> bool:
        return all(value == "ok" for value in self.checks.values())

    def answer(self) -> dict[str, Any]:
        return {"status": "ok" if self.healthy else "degraded", **self.checks, **self.details}


def probe_parts(probes: dict[str, Probe], details: dict[str, tuple[str, Callable[[], Any]]]) -> HealthReport:
    """Check each part; then read each detail (name -> the part it reads, how) whose part answered. A
    detail that fails even so is left out."""
    checks: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            probe.check()
            checks[name] = "ok"
        except Exception as error:  # noqa: BLE001 - health reports any failure, whatever its type
            checks[name] = f"unavailable: {type(error).__name__}"
    read: dict[str, Any] = {}
    for name, (part, detail) in details.items():
        if checks.get(part) == "ok":
            with suppress(Exception):
                read[name] = detail()
    return HealthReport(checks, read)


class CachedHealth:
    """The last report, reused for `ttl_s` seconds of `clock`; one caller at a time refreshes it."""

    def __init__(self, probe: Callable[[], HealthReport], ttl_s: float, clock: Callable[[], float]) -> None:
        self._probe = probe
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._report: HealthReport | None = None
        self._taken_at = 0.0

    def report(self) -> HealthReport:
        with self._lock:
            now = self._clock()
            if self._report is None or now - self._taken_at >= self._ttl_s:
                self._report = self._probe()
                self._taken_at = now
            return self._report
