"""Running many provider calls at once, within the time an invocation has left.

Sends go to a bounded pool of threads; their outcomes are handed to a writer in small
batches, so one execution environment keeps `concurrency` calls in flight and writes one
statement per batch instead of one per recipient. Nothing new starts once the time left
falls under the safety margin: what was not started is returned, for the caller to hand back.

Messages delivered at the same time in one environment share one pool per concurrency level
(`SendPools`): together they keep at most `concurrency` calls in flight, and while one message
claims its recipients, waits for its last few sends or records them, the other's sends keep the
provider busy.
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from notify.delivery.ports import Outcome
from notify.errors import StorageUnavailable
from notify.logs import module_logger

logger = module_logger()

TimeLeft = Callable[[], float]


@dataclass(frozen=True)
class DispatchPolicy:
    concurrency: int = 16
    safety_margin_s: float = 8.0
    flush_every: int = 50
    flush_interval_s: float = 0.25
    write_backoff_s: float = 0.25  # the first pause between failed writes; one more each time, to the cap
    write_backoff_cap_s: float = 2.0
    # A failed write is tried again while the invocation has more than this left (to answer the queue).
    write_margin_s: float = 1.0


class SendPools:
    """The send threads of one execution environment: one pool per concurrency level, made on
    first use and kept for the environment's life (thread-safe). The queue entry point keeps its
    message threads the same way (name="message")."""

    def __init__(self, name: str = "send") -> None:
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._name = name

    def pool(self, concurrency: int) -> Executor:
        with self._lock:
            if concurrency not in self._pools:
                self._pools[concurrency] = ThreadPoolExecutor(
                    max_workers=concurrency, thread_name_prefix=f"{self._name}{concurrency}"
                )
            return self._pools[concurrency]

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True)


def dispatch[Job](
    jobs: Sequence[Job],
    send: Callable[[Job], Outcome],
    write: Callable[[Sequence[Outcome]], Iterable[uuid.UUID]],
    *,
    policy: DispatchPolicy,
    time_left: TimeLeft,
    pool: Executor | None = None,
) -> tuple[list[Outcome], list[Job], StorageUnavailable | None]:
    """Send every job that can start in time; return (outcomes written, jobs not started, the
    storage error that stopped the writes, if one did). `write` answers whose outcomes it wrote:
    one whose claim another attempt took over is not, and is not returned.

    `pool` is the environment's shared pool of `policy.concurrency` threads (`SendPools`); without
    one the call makes its own. A job waiting in a shared pool behind another message's sends is
    checked again when its turn comes: it does not start once the time left is under the margin.

    A write that fails is retried for as long as the invocation has time (a dropped connection comes
    back from the pool anew; a failover takes a while); while it fails no new send starts, because
    every send whose outcome cannot be recorded may be sent again by a later attempt.
    """
    written: list[Outcome] = []
    unreached: list[Job] = []
    buffer: list[Outcome] = []
    write_error: StorageUnavailable | None = None
    last_flush = time.monotonic()
    # Set while a write is failing (it is being retried) and once this call has ended: a job still
    # waiting in a shared pool then does not start, since its outcome could not be recorded.
    hold = threading.Event()
    ended = threading.Event()

    def write_and_note(outcomes: Sequence[Outcome]) -> list[uuid.UUID]:
        try:
            recorded = list(write(outcomes))
        except StorageUnavailable:
            hold.set()
            raise
        hold.clear()
        return recorded

    def flush() -> None:
        nonlocal write_error, last_flush
        if buffer and write_error is None:
            try:
                recorded = _write_with_retries(write_and_note, list(buffer), policy, time_left)
                written.extend(outcome for outcome in buffer if outcome.user_id in recorded)
                buffer.clear()
            except StorageUnavailable as error:
                write_error = error
        last_flush = time.monotonic()

    def in_time() -> bool:
        return write_error is None and not hold.is_set() and time_left() >= policy.safety_margin_s

    def start(job: Job) -> Outcome | None:
        # None: its turn came too late (time, a failing write, or the call has ended), not started
        return send(job) if in_time() and not ended.is_set() else None

    own = None
    if pool is None:
        own = pool = ThreadPoolExecutor(policy.concurrency, thread_name_prefix="send")
    pending = iter(jobs)
    in_flight: dict[Future[Outcome | None], Job] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) < policy.concurrency:
                job = next(pending, None)
                if job is None:
                    exhausted = True
                elif not in_time():
                    unreached.append(job)
                    unreached.extend(pending)
                    exhausted = True
                else:
                    in_flight[pool.submit(start, job)] = job
            if not in_flight:
                break
            done, _ = wait(in_flight, timeout=policy.flush_interval_s, return_when=FIRST_COMPLETED)
            for future in done:
                job = in_flight.pop(future)
                outcome = future.result()
                if outcome is None:
                    unreached.append(job)
                else:
                    buffer.append(outcome)
            if len(buffer) >= policy.flush_every or time.monotonic() - last_flush >= policy.flush_interval_s:
                flush()
    finally:
        # On an unexpected error too: what waits in a shared pool does not start after this call has
        # returned, and the sends already started finish before it does, as with a pool of its own.
        ended.set()
        wait(in_flight)
        if own is not None:
            own.shutdown(wait=True)
    flush()
    return written, unreached, write_error


def _write_with_retries(
    write: Callable[[Sequence[Outcome]], Iterable[uuid.UUID]],
    outcomes: list[Outcome],
    policy: DispatchPolicy,
    time_left: TimeLeft,
) -> set[uuid.UUID]:
    # Giving up means these recipients are sent again once the lease ends: keep trying for as
    # long as the invocation lasts, with pauses growing linearly to a cap.
    return with_storage_retries(
        lambda: set(write(outcomes)),
        policy=policy,
        time_left=time_left,
        margin_s=policy.write_margin_s,
        what="outcome write",
        extra={"outcomes": len(outcomes)},
    )


def with_storage_retries[T](
    call: Callable[[], T],
    *,
    policy: DispatchPolicy,
    time_left: TimeLeft,
    margin_s: float,
    what: str,
    extra: dict[str, object] | None = None,
) -> T:
    """`call()`, tried again after StorageUnavailable (a dropped connection: the adapter reconnects at
    once) with pauses growing linearly to `policy.write_backoff_cap_s`, while more than `margin_s`
    seconds would be left after the pause; then the error is raised."""
    attempt = 1
    while True:
        try:
            return call()
        except StorageUnavailable as error:
            pause = min(policy.write_backoff_s * attempt, policy.write_backoff_cap_s)
            if time_left() < margin_s + pause:
                raise
            logger.warning(
                f"{what} failed; trying again",
                extra={"attempt": attempt, "error": str(error), **(extra or {})},
            )
            time.sleep(pause)
            attempt += 1
