"""Messages delivered at once in one environment share its send pool: together they keep at most the
pool's concurrency in flight, and a send that waited for its turn starts only with time to spare."""

import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from notify.delivery.dispatch import DispatchPolicy, SendPools, dispatch
from notify.delivery.models import NotificationMessage
from notify.delivery.ports import Outcome
from notify.errors import StorageUnavailable
from notify_dev.delivering import deliver
from tests.fakes import CountingSender, FakeLedger
from tests.unit.builders import NOW, message, recipient
from tests.unit.delivery.test_deliver import StubRenderer


def big_message(tag: str) -> NotificationMessage:
    return message([recipient(email=f"{tag}{n}@example.com") for n in range(40)])


def test_messages_delivered_at_once_share_the_pools_concurrency() -> None:
    first, second = big_message("a"), big_message("b")
    ledger, sender, pools = FakeLedger(), CountingSender(latency_s=0.02), SendPools()
    ledger.add_message(first)
    ledger.add_message(second)
    policy = DispatchPolicy(concurrency=8, flush_interval_s=0.05, write_backoff_s=0)

    def deliver_one(msg: NotificationMessage) -> int:
        report = deliver(msg, ledger, sender, StubRenderer(), now=NOW, dispatch=policy, send_pools=pools)
        return len(report.sent)

    try:
        with ThreadPoolExecutor(2) as messages:
            sent = list(messages.map(deliver_one, [first, second]))
    finally:
        pools.close()

    assert sent == [40, 40]
    assert len(sender.sent) == 80
    assert sender.most_in_flight == 8  # not 16: the two messages' sends ran in the one pool of 8


def test_a_send_whose_turn_comes_after_the_time_ran_out_is_not_started() -> None:
    """Another message's send holds the only thread; by the time it finishes, this invocation is
    inside its safety margin: the jobs queued behind it come back unreached, none is sent."""
    pool = ThreadPoolExecutor(1)
    release, time_is_up = threading.Event(), threading.Event()
    pool.submit(release.wait, 5)  # the other message's send, still in flight
    sent: list[str] = []

    def send(address: str) -> Outcome:
        sent.append(address)
        return Outcome(uuid.uuid4(), "sent", NOW)

    def time_left() -> float:
        return 3.0 if time_is_up.is_set() else 60.0

    def run() -> tuple[list[Outcome], list[str], object]:
        return dispatch(
            ["a@example.com", "b@example.com"],
            send,
            lambda outcomes: [outcome.user_id for outcome in outcomes],
            policy=DispatchPolicy(concurrency=2, safety_margin_s=8.0, flush_interval_s=0.02),
            time_left=time_left,
            pool=pool,
        )

    with ThreadPoolExecutor(1) as caller:
        outcome = caller.submit(run)
        threading.Event().wait(0.1)  # both jobs queued behind the held thread
        time_is_up.set()
        release.set()
        written, unreached, write_error = outcome.result(timeout=5)
    pool.shutdown()

    assert sent == []
    assert written == []
    assert sorted(unreached) == ["a@example.com", "b@example.com"]
    assert write_error is None


def test_send_pools_keep_one_pool_per_concurrency() -> None:
    pools = SendPools()
    try:
        assert pools.pool(8) is pools.pool(8)
        assert pools.pool(8) is not pools.pool(32)
    finally:
        pools.close()


def test_no_queued_send_starts_while_the_outcome_write_is_failing() -> None:
    """While a write is being retried nothing new starts (its outcome could not be recorded either):
    also not a job of this message that was waiting in the shared pool behind another's sends."""
    pool = ThreadPoolExecutor(3)
    policy = DispatchPolicy(
        concurrency=3, flush_every=1, safety_margin_s=1.0, write_backoff_s=0.2, write_backoff_cap_s=0.2
    )
    pool.submit(time.sleep, 0.8)  # another message's sends hold two of the three threads
    pool.submit(time.sleep, 0.8)
    first_failure = threading.Event()
    started_after_failure: list[str] = []
    deadline = time.monotonic() + 2.5

    def send(job: str) -> Outcome:
        if first_failure.is_set():
            started_after_failure.append(job)
        time.sleep(0.1)
        return Outcome(uuid.uuid4(), "sent", NOW, provider_id=job)

    def write(outcomes: Sequence[Outcome]) -> list[uuid.UUID]:
        first_failure.set()
        raise StorageUnavailable("postgres: OperationalError")

    written, unreached, error = dispatch(
        ["a1", "a2", "a3"],
        send,
        write,
        policy=policy,
        time_left=lambda: deadline - time.monotonic(),
        pool=pool,
    )
    pool.shutdown(wait=True)

    assert isinstance(error, StorageUnavailable)
    assert written == []
    assert started_after_failure == []
    assert "a3" in unreached  # a2 may have taken the free thread just before the first write failed


def test_no_queued_send_starts_once_the_dispatch_has_raised() -> None:
    """An unexpected error ends the delivery: a job of it still waiting in the shared pool must not
    send afterwards, when nothing would record its outcome."""
    pool = ThreadPoolExecutor(2)
    release_other = threading.Event()
    pool.submit(release_other.wait, 5)  # another message's send holds one of the two threads
    raised = threading.Event()
    sent_after_raise: list[str] = []

    def send(job: str) -> Outcome:
        if raised.is_set():
            sent_after_raise.append(job)
        return Outcome(uuid.uuid4(), "sent", NOW, provider_id=job)

    def write(outcomes: Sequence[Outcome]) -> list[uuid.UUID]:
        raise ValueError("a bug in the writer, not StorageUnavailable")

    with pytest.raises(ValueError, match="a bug"):
        dispatch(
            ["a1", "a2"],
            send,
            write,
            policy=DispatchPolicy(concurrency=2, flush_every=1, safety_margin_s=1.0),
            time_left=lambda: 100.0,
            pool=pool,
        )
    raised.set()
    release_other.set()
    pool.shutdown(wait=True)

    assert sent_after_raise == []
