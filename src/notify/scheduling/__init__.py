"""Scheduling: recurring and delayed sends, what the tick fires when they are due, and how the API
reads and changes them.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

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
