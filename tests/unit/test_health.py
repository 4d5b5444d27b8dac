"""The health report: parts probed, details read when their part answered, the report cached."""

from typing import Any

from notify.errors import StorageUnavailable
from notify.health import CachedHealth, HealthReport, probe_parts


class Part:
    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.probed = 0

    def check(self) -> None:
        self.probed += 1
        if self.down:
            raise StorageUnavailable("down")


def test_a_detail_is_read_only_when_its_part_answered() -> None:
    def failing() -> Any:
        raise RuntimeError("boom")

    report = probe_parts(
        {"database": Part(), "broker": Part(down=True)},
        {"outbox": ("database", lambda: 3), "queues": ("broker", lambda: 1), "age": ("database", failing)},
    )

    assert not report.healthy
    assert report.answer() == {
        "status": "degraded",
        "database": "ok",
        "broker": "unavailable: StorageUnavailable",
        "outbox": 3,
    }


def test_the_report_is_probed_again_only_after_the_cache_period() -> None:
    part, now = Part(), [100.0]
    health = CachedHealth(lambda: probe_parts({"database": part}, {}), ttl_s=5, clock=lambda: now[0])

    reports: list[HealthReport] = []
    for moment in (100.0, 101.0, 104.9, 105.0, 109.0, 110.0):
        now[0] = moment
        reports.append(health.report())

    assert part.probed == 3  # at 100, 105 and 110
    assert all(report.healthy for report in reports)
