"""Schedules in memory: the tick's claim and plan (occurrences are not fanned out here)."""

import dataclasses
from collections.abc import Callable
from datetime import datetime

from notify.events.ports import NewSchedule
from notify.scheduling.ports import DueSchedule, FiredBatch, Firing
from tests.fakes.tables import FakeTables


class FakeSchedules(FakeTables):
    """Due schedules are planned and moved to their next run; the firings are recorded."""

    def fire_due(
        self,
        now: datetime,
        limit: int,
        plan: Callable[[list[DueSchedule]], list[Firing]],
        chunk_size: int,
        max_users: int,
    ) -> FiredBatch:
        ready = sorted(
            (s for s in self.schedules.values() if s.next_run_at is not None and s.next_run_at <= now),
            key=lambda s: (s.next_run_at, s.schedule_id),
        )[:limit]
        taken: list[NewSchedule] = []
        users = 0
        for schedule in ready:
            if taken and users >= max_users:
                break
            taken.append(schedule)
            # as PostgresSchedules: a list over the budget is fanned out in steps, and counts as
            # the whole budget (its firing still reads the whole list)
            listed = len(schedule.user_ids)
            users += max(1, listed) if listed <= max_users else max_users
        due = [
            DueSchedule(s.schedule_id, s.event_type, s.priority, s.cron, s.timezone, s.next_run_at)
            for s in taken
            if s.next_run_at is not None
        ]
        if not due:
            return FiredBatch(claimed=0, sent=0, skipped_late=0)
        firings = plan(due)
        for firing in firings:
            schedule = self.schedules[firing.schedule_id]
            self.schedules[firing.schedule_id] = dataclasses.replace(schedule, next_run_at=firing.next_run_at)
        self.firings.extend(firings)
        sent = sum(1 for firing in firings if firing.send)
        return FiredBatch(claimed=len(due), sent=sent, skipped_late=len(firings) - sent)
