"""Cron arithmetic: the one module that uses croniter. Time is always a parameter.

Crons are read in a time zone. Across daylight-saving changes this follows classic cron:
a job at a fixed hour runs once when the clocks go back (not again in the repeated hour)
and, when the clocks go forward past it, at the first moment that exists; a job whose
hour field is `*` keeps its real-time rhythm through both changes.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

UTC = ZoneInfo("UTC")


def check_cron(expression: str) -> None:
    """Raise ValueError saying why a 5-field cron expression is unusable."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"must have 5 fields (minute hour day month weekday), got {len(fields)}")
    try:
        croniter(expression)
    except (CroniterBadCronError, CroniterBadDateError, ValueError, KeyError) as error:
        raise ValueError(f"is not a valid cron expression: {error}") from error


def _fixed_hour(expression: str) -> bool:
    return expression.split()[1] != "*"


def next_run(expression: str, timezone: str, after: datetime) -> datetime:
    """The first moment strictly after `after` that the cron, read in `timezone`, names (UTC)."""
    zone = ZoneInfo(timezone)
    runs = croniter(expression, after.astimezone(zone))
    while True:
        candidate: datetime = runs.get_next(datetime)
        local = candidate.astimezone(zone)
        # The second pass through a repeated hour: a fixed-hour job already ran in the first.
        if local.fold == 1 and _fixed_hour(expression) and _exists_twice(local, zone):
            continue
        return candidate.astimezone(UTC)


def _exists_twice(local: datetime, zone: ZoneInfo) -> bool:
    first = local.replace(fold=0)
    return first.utcoffset() != local.utcoffset() and first.astimezone(UTC) < local.astimezone(UTC)


def latest_run(expression: str, timezone: str, at_or_before: datetime) -> datetime:
    """The most recent moment at or before `at_or_before` that the cron names (UTC)."""
    probe = at_or_before + timedelta(microseconds=1)
    zone = ZoneInfo(timezone)
    runs = croniter(expression, probe.astimezone(zone))
    while True:
        previous: datetime = runs.get_prev(datetime)
        local = previous.astimezone(zone)
        # As in next_run: a fixed-hour job has no run in the second pass through a repeated hour.
        if local.fold == 1 and _fixed_hour(expression) and _exists_twice(local, zone):
            continue
        return previous.astimezone(UTC)


def upcoming_runs(expression: str, timezone: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` moments strictly after `after` (UTC)."""
    runs: list[datetime] = []
    for _ in range(count):
        after = next_run(expression, timezone, after)
        runs.append(after)
    return runs
