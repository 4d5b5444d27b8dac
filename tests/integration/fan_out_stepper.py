"""A process of its own stepping one event's fan-out on PostgreSQL, printing each committed step, until
it is complete or killed: what the tests kill to prove that a crash between steps loses and repeats
nothing. Its outbox messages stay unpublished, as a dead function's would (the relay's to send).

    python -m tests.integration.fan_out_stepper <dsn> <event id> <members a step> <chunk size>
"""

import sys
import uuid

from notify.adapters.postgres import PostgresStore
from notify.channels import Channel, QueueRouter, shipped_channels


def main(dsn: str, event_id: str, members: str, chunk_size: str) -> None:
    store, router = PostgresStore(dsn), QueueRouter("notify")

    def routes(event_type: str, version: int, priority: int) -> dict[Channel, tuple[str, int]]:
        return router.routes_for(shipped_channels(event_type, version), priority)

    while True:
        step = store.fan_out_step(
            uuid.UUID(event_id), members=int(members), routes=routes, chunk_size=int(chunk_size)
        )
        if step is None:
            return
        print(f"done {step.done}", flush=True)
        if step.complete:
            return


if __name__ == "__main__":
    main(*sys.argv[1:])
