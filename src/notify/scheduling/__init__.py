"""Scheduling: recurring and delayed sends, what the tick fires when they are due, and how the API
reads and changes them.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from typing import TYPE_CHECKING

from notify import lazy_exports

if TYPE_CHECKING:
    from notify.scheduling.models import LastRun, SchedulePage, SchedulePatch, ScheduleState, ScheduleView
    from notify.scheduling.ports import DueSchedule, FiredBatch, Firing, ScheduleStore
    from notify.scheduling.schedules import (
        FireReport,
        cancel_schedule,
        change_schedule,
        describe_schedule,
        fire_due_schedules,
        page_schedules,
    )

# Each public name's module, loaded on first use: a model or a port taken from this package (by an
# adapter, the Migrate function) does not load all of its logic and the libraries that logic needs.
_HOMES = {
    "DueSchedule": "notify.scheduling.ports",
    "FireReport": "notify.scheduling.schedules",
    "FiredBatch": "notify.scheduling.ports",
    "Firing": "notify.scheduling.ports",
    "LastRun": "notify.scheduling.models",
    "SchedulePage": "notify.scheduling.models",
    "SchedulePatch": "notify.scheduling.models",
    "ScheduleState": "notify.scheduling.models",
    "ScheduleStore": "notify.scheduling.ports",
    "ScheduleView": "notify.scheduling.models",
    "cancel_schedule": "notify.scheduling.schedules",
    "change_schedule": "notify.scheduling.schedules",
    "describe_schedule": "notify.scheduling.schedules",
    "fire_due_schedules": "notify.scheduling.schedules",
    "page_schedules": "notify.scheduling.schedules",
}

__all__ = [
    "DueSchedule",
    "FireReport",
    "FiredBatch",
    "Firing",
    "LastRun",
    "SchedulePage",
    "SchedulePatch",
    "ScheduleState",
    "ScheduleStore",
    "ScheduleView",
    "cancel_schedule",
    "change_schedule",
    "describe_schedule",
    "fire_due_schedules",
    "page_schedules",
]


__getattr__ = lazy_exports(__name__, _HOMES)
