"""Cron arithmetic: the one module that uses croniter. Time is always a parameter."""

from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import CroniterBadCronError, CroniterBadDateError, croniter


def check_cron(expression: str) -> None:
    """Raise ValueError saying why a 5-field cron expression is unusable."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"must have 5 fields (minute hour day month weekday), got {len(fields)}")
    try:
        croniter(expression)
    except (CroniterBadCronError, CroniterBadDateError, ValueError, KeyError) as error:
        raise ValueError(f"is not a valid cron expression: {error}") from error


def next_run(expression: str, timezone: str, after: datetime) -> datetime:
    """The first moment strictly after `after` that the cron, read in `timezone`, names."""
    local_after = after.astimezone(ZoneInfo(timezone))
    upcoming: datetime = croniter(expression, local_after).get_next(datetime)
    return upcoming.astimezone(ZoneInfo("UTC"))
