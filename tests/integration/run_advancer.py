"""A process that advances the due workflow runs in one batch and is SIGKILLed in the middle of it:
its transaction open, every run decided, nothing written yet (tests/integration/test_runs.py)."""

import os
import signal
import sys
from datetime import datetime

from notify.adapters.postgres import PostgresStore
from notify.channels import QueueRouter
from notify.workflows import KeptVersions, RunDecision
from notify.workflows.advancing import decider, sends_of


def main(dsn: str, now: str, marker: str) -> None:
    store, moment = PostgresStore(dsn), datetime.fromisoformat(now)
    versions = KeptVersions(store)
    decide = decider(versions, moment)

    def decide_then_die(due: list) -> list[RunDecision]:  # type: ignore[type-arg]
        decisions = decide(due)
        with open(marker, "w") as told:
            told.write(str(len(decisions)))
        os.kill(os.getpid(), signal.SIGKILL)
        return decisions

    store.advance_due_runs(
        moment, 100_000, sends_of(versions), decide_then_die, QueueRouter("notify").table(), 250
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
