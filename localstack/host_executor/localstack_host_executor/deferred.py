"""Calls run later, in order, on worker threads of their own, behind their callers, with a bound on
how late.

`Deferred.submit` queues a call and returns at once, unless the oldest waiting call has waited more
than `max_lag` seconds. Then the caller runs its own call before returning, so under a load the
workers cannot keep up with, the lag stays near `max_lag` instead of growing without end: the callers
slow down to what the machine can do, as they did when every call ran inline.

The bound is the lag measured, not one predicted from the seconds a call took lately: on shared cores
a call's wall time grows with the callers running beside it (eight times, under a 32-thread burst), so
a prediction crossed the bound early, the callers ran their calls inline, that made each call slower
still, and a burst of 20,000 sends ran at a fraction of its rate (issue 27).

With `yield_after` set, the workers give way to the callers: while a call was submitted less than
that many seconds ago and the oldest waiting call has waited less than half of `max_lag`, they wait.
On a machine whose cores the callers and the workers share, this is what lets a burst of callers run
at their own pace and leaves the deferred work for the quiet after it, as a separate fleet of
machines would do it.

A call that raises is logged and dropped, as the inline call's error was logged and dropped by its
caller.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)


class Deferred:
    def __init__(
        self,
        max_lag: float,
        workers: int = 1,
        yield_after: float = 0.0,
        name: str = "deferred",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_lag, self.yield_after = max_lag, yield_after
        self._last_submit = float("-inf")
        self.clock = clock
        self._name, self._workers = name, workers
        self._waiting: collections.deque[tuple[float, Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
        self._waiting = collections.deque()
        self._condition = threading.Condition()
        self._running = 0
        self._threads: list[threading.Thread] = []
        self.call_seconds = 0.0  # a moving average of a worker's seconds per call, wall time
        self.inline_calls = 0  # calls their caller ran because the lag was over the bound
        self.deferred_calls = 0  # calls the workers ran

    def submit(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        now = self.clock()
        with self._condition:
            self._start_workers()
            self._last_submit = now
            if self._oldest_wait(now) <= self.max_lag:
                self._waiting.append((now, call, args, kwargs))
                # A worker waits for the first call, or gives way until the bound's half is reached.
                if len(self._waiting) == 1 or self._oldest_wait(now) >= self.max_lag / 2:
                    self._condition.notify()
                return
            self.inline_calls += 1
        self._run(call, args, kwargs)

    def _pause(self) -> float:
        """Seconds a worker gives way to the callers before its next call (0: go on)."""
        now = self.clock()
        if not self.yield_after or self._oldest_wait(now) >= self.max_lag / 2:
            return 0.0
        return max(0.0, self._last_submit + self.yield_after - now)

    def _oldest_wait(self, now: float) -> float:
        return now - self._waiting[0][0] if self._waiting else 0.0

    def _expected_wait(self) -> float:
        """Seconds the calls waiting would take at the workers' recent pace: shown, not acted on."""
        return (len(self._waiting) + self._running) * self.call_seconds / self._workers

    def state(self) -> dict[str, float | int]:
        """What waits and how late: for the bench and the tests (LocalStack serves it, see ses_events)."""
        with self._condition:
            return {
                "waiting": len(self._waiting),
                "running": self._running,
                "oldest_wait_s": round(self._oldest_wait(self.clock()), 3),
                "expected_wait_s": round(self._expected_wait(), 3),
                "call_ms": round(self.call_seconds * 1000, 2),
                "max_lag_s": self.max_lag,
                "deferred_calls": self.deferred_calls,
                "inline_calls": self.inline_calls,
            }

    def join(self, timeout: float) -> bool:
        """Wait until no call waits or runs; False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._waiting or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
        return True

    def _start_workers(self) -> None:
        while len(self._threads) < self._workers:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._waiting or (pause := self._pause()) > 0:
                    self._condition.wait(pause if self._waiting else None)
                _, call, args, kwargs = self._waiting.popleft()
                self._running += 1
            started = self.clock()
            try:
                self._run(call, args, kwargs)
            finally:
                took = self.clock() - started
                with self._condition:
                    self._running -= 1
                    self.deferred_calls += 1
                    # The first call sets the average; then each call weighs a tenth.
                    weight = 1.0 if self.deferred_calls == 1 else 0.1
                    self.call_seconds += weight * (took - self.call_seconds)
                    self._condition.notify_all()

    @staticmethod
    def _run(call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            call(*args, **kwargs)
        except Exception:
            LOG.exception("a deferred call failed")
