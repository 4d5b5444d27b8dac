"""Workflow runs in memory: the fakes make none (their fan-out makes rows only), so there is never a
run due; runs are PostgreSQL's (tests/integration/test_runs.py)."""

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from notify.channels import Channel
from notify.workflows import AdvancedRuns, DueRun, RunDecision, RunRecord
from tests.fakes.tables import FakeTables


class FakeRuns(FakeTables):
    def advance_due_runs(
        self,
        now: datetime,
        limit: int,
        sends_of: Callable[[str, int], list[tuple[int, Channel]]],
        decide: Callable[[list[DueRun]], list[RunDecision]],
        queues: Mapping[str, str],
        chunk_size: int,
    ) -> AdvancedRuns:
        self.check()
        return AdvancedRuns(claimed=0, sends=0)

    def find_run(self, event_id: uuid.UUID, user_id: uuid.UUID) -> RunRecord | None:
        self.check()
        return None
