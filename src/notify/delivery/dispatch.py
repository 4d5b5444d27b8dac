"""Running many provider calls at once, within the time an invocation has left.

Sends go to a bounded pool of threads; their outcomes are handed to a writer in small
batches, so one execution environment keeps `concurrency` calls in flight and writes one
statement per batch instead of one per recipient. Nothing new starts once the time left
falls under the safety margin: what was not started is returned, for the caller to hand back.
"""

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
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


def dispatch[Job](
    jobs: Sequence[Job],
    send: Callable[[Job], Outcome],
    write: Callable[[Sequence[Outcome]], Iterable[uuid.UUID]],
    *,
    policy: DispatchPolicy,
    time_left: TimeLeft,
) -> tuple[list[Outcome], list[Job], StorageUnavailable | None]:
    """Send every job that can start in time; return (outcomes written, jobs not started, the
    storage error that stopped the writes, if one did). `write` answers whose outcomes it wrote:
    one whose claim another attempt took over is not, and is not returned.

    A write that fails is retried for as long as the invocation has time (a dropped connection comes
    back from the pool anew; a failover takes a while); while it fails no new send starts, because
    every send whose outcome cannot be recorded may be sent again by a later attempt.
    """
    written: list[Outcome] = []
    unreached: list[Job] = []
    buffer: list[Outcome] = []
    write_error: StorageUnavailable | None = None
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal write_error, last_flush
        if buffer and write_error is None:
            try:
                recorded = _write_with_retries(write, list(buffer), policy, time_left)
                written.extend(outcome for outcome in buffer if outcome.user_id in recorded)
                buffer.clear()
            except StorageUnavailable as error:
                write_error = error
        last_flush = time.monotonic()

    pending = iter(jobs)
    with ThreadPoolExecutor(max_workers=policy.concurrency, thread_name_prefix="send") as pool:
        in_flight: set[Future[Outcome]] = set()
        exhausted = False
        while True:
            while not exhausted and len(in_flight) < policy.concurrency:
                job = next(pending, None)
                if job is None:
                    exhausted = True
                elif write_error is not None or time_left() < policy.safety_margin_s:
                    unreached.append(job)
                    unreached.extend(pending)
                    exhausted = True
                else:
                    in_flight.add(pool.submit(send, job))
            if not in_flight:
                break
            done, in_flight = wait(in_flight, timeout=policy.flush_interval_s, return_when=FIRST_COMPLETED)
            buffer.extend(future.result() for future in done)
            if len(buffer) >= policy.flush_every or time.monotonic() - last_flush >= policy.flush_interval_s:
                flush()
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
    attempt = 1
    while True:
        try:
            return set(write(outcomes))
        except StorageUnavailable as error:
            pause = min(policy.write_backoff_s * attempt, policy.write_backoff_cap_s)
            if time_left() < policy.write_margin_s + pause:
                raise
            logger.warning(
                "outcome write failed; trying again",
                extra={"attempt": attempt, "outcomes": len(outcomes), "error": str(error)},
            )
            time.sleep(pause)
            attempt += 1
