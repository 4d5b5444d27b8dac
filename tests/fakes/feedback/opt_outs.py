"""The periodic syncs' claims in memory, by PostgresSyncClaims' rules, and the provider's opt-out list."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from notify.errors import NotifyError
from tests.fakes.tables import FakeTables


class FakeSyncClaims(FakeTables):
    def claim_sync(self, name: str, now: datetime, every: timedelta, lease: timedelta) -> bool:
        self.check()
        last_run, claimed_until = self.syncs.get(name, (None, None))
        if (last_run is not None and last_run > now - every) or (
            claimed_until is not None and claimed_until > now
        ):
            return False
        self.syncs[name] = (last_run, now + lease)
        return True

    def finish_sync(self, name: str, now: datetime, lease: timedelta, *, done: bool) -> None:
        self.check()
        last_run, claimed_until = self.syncs.get(name, (None, None))
        if claimed_until == now + lease:
            self.syncs[name] = (now if done else last_run, None)


@dataclass
class FakeOptedOutNumbers:
    """The carrier's opt-out list; raises the queued errors first, one per call."""

    numbers: list[str] = field(default_factory=list)
    errors: list[NotifyError] = field(default_factory=list)
    calls: int = 0

    def opted_out_numbers(self) -> list[str]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return list(self.numbers)
