"""A call handed to worker threads through a bounded queue; run in the caller's thread when full."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)


class Deferred:
    """`publish(**kwargs)`, run by `workers` threads after the caller went on. When `size` calls wait
    already, the caller runs its own: memory stays bounded, and a burst slows the caller instead of
    dropping the call."""

    def __init__(self, publish: Callable[..., None], size: int, workers: int) -> None:
        self._publish = publish
        self._waiting: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=size)
        for n in range(workers):
            threading.Thread(target=self._drain, name=f"deferred-{n}", daemon=True).start()

    def __call__(self, **kwargs: Any) -> None:
        try:
            self._waiting.put_nowait(kwargs)
        except queue.Full:
            self._publish(**kwargs)

    def _drain(self) -> None:
        while True:
            kwargs = self._waiting.get()
            try:
                self._publish(**kwargs)
            except Exception:
                LOG.exception("a deferred call failed")
            finally:
                self._waiting.task_done()

    def join(self) -> None:
        """Wait until every call handed off so far has run (for tests)."""
        self._waiting.join()
