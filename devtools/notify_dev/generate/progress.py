"""Pacing calls to a rate, and a progress bar on stderr."""

import time
from collections.abc import Callable
from typing import TextIO


class Pacer:
    """Spaces calls `1/rate` seconds apart on a schedule (a late call is not followed by a burst
    of more than a second's worth of catching up). rate <= 0: no pacing."""

    MAX_LAG_S = 1.0

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._due: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        if self._due is None or self._due < now - self.MAX_LAG_S:
            self._due = now
        if self._due > now:
            self._sleep(self._due - now)
        self._due += self.interval


class Progress:
    """A one-line progress bar on a terminal (redrawn with \\r); silent on anything else."""

    WIDTH = 24

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 0.1,
    ) -> None:
        self._stream = stream
        self.enabled = _is_tty(stream) if enabled is None else enabled
        self._clock = clock
        self._every_s = every_s
        self._label = ""
        self._total = 0
        self._started = 0.0
        self._drawn_at: float | None = None
        self._width = 0

    def start(self, label: str, total: int) -> None:
        self._label, self._total, self._started, self._drawn_at = label, total, self._clock(), None

    def update(self, done: int, *, errors: int = 0, extra: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and self._drawn_at is not None and now - self._drawn_at < self._every_s:
            return
        self._drawn_at = now
        share = done / self._total if self._total else 1.0
        filled = round(self.WIDTH * share)
        elapsed = now - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = (
            f"{self._label} {done}/{self._total} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{share:4.0%} {rate:.1f}/s errors {errors}{'  ' + extra if extra else ''}"
        )
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = len(line)

    def note(self, text: str) -> None:
        """A line of its own (an error), printed above the bar."""
        if self.enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._width = 0
            self._drawn_at = None
        self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self) -> None:
        if self.enabled and self._width:
            self._stream.write("\n")
            self._stream.flush()
            self._width = 0


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
