"""The provider's fake: records what was sent, fails on request."""

import threading
import time
from dataclasses import dataclass, field

from notify.delivery.ports import Rendered
from notify.errors import NotifyError


@dataclass
class FakeSender:
    """Records (address, message); raises the queued errors first, one per send. Safe to call
    from the delivery's send threads; `latency_s` makes each send take that long."""

    sent: list[tuple[str, Rendered]] = field(default_factory=list)
    errors: list[NotifyError] = field(default_factory=list)
    # a failure per address; any exception, as a sender with a bug raises one too
    fail_addresses: dict[str, Exception | list[NotifyError]] = field(default_factory=dict)
    latency_s: float = 0.0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, address: str, message: Rendered) -> str:
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._lock:
            self.calls += 1
            failure = self.fail_addresses.get(address)
            if isinstance(failure, list):
                # a list: one error per call, then the address works
                if failure:
                    raise failure.pop(0)
            elif failure is not None:
                raise failure
            if self.errors:
                raise self.errors.pop(0)
            self.sent.append((address, message))
            return f"fake-{len(self.sent)}"


@dataclass
class CountingSender(FakeSender):
    """A FakeSender that records the most sends it ever had in flight at once."""

    in_flight: int = 0
    most_in_flight: int = 0
    _gauge: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, address: str, message: Rendered) -> str:
        with self._gauge:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return super().send(address, message)
        finally:
            with self._gauge:
                self.in_flight -= 1
