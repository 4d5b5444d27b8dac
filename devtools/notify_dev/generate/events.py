"""The event stream of a catalog: which type, which priority, which users and movies."""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notify.channels import EventType
from notify_dev.generate.catalog import Catalog

EVENT_WEIGHTS: dict[EventType, float] = {
    EventType.COMMENT_LIKED: 0.4,
    EventType.NEW_EPISODE: 0.25,
    EventType.WATCH_LATER_REMINDER: 0.25,
    EventType.NEW_RELEASES_PROMO: 0.1,
}
# Priorities that fit each type (README: 7-9 high, 3-6 normal, 0-2 low).
PRIORITIES: dict[EventType, tuple[int, ...]] = {
    EventType.NEW_EPISODE: (7, 8),
    EventType.COMMENT_LIKED: (5, 6),
    EventType.WATCH_LATER_REMINDER: (4, 5),
    EventType.NEW_RELEASES_PROMO: (0, 1, 2),
}
PROMO_SHARE = (0.3, 1.0)  # of all users get a given promo
PROMO_CANDIDATES = 12  # the newest films a promo picks from


@dataclass(frozen=True)
class PlannedEvent:
    """An event to post; the body gets its created_dt when it is sent."""

    event_type: EventType
    priority: int
    users: list[str]
    content: list[str]

    def body(self, created_dt: datetime) -> dict[str, Any]:
        return {
            "event_type": str(self.event_type),
            "created_dt": created_dt.isoformat(),
            "priority": self.priority,
            "payload": {"user": self.users, "content": self.content},
        }


def plan_event(
    rng: random.Random, catalog: Catalog, event_type: EventType, *, max_recipients: int
) -> PlannedEvent:
    """One event of the given type over the catalog (which must have a user and a movie)."""
    users = catalog.user_ids
    movie_ids = catalog.films or [row["movie_id"] for row in catalog.movies]
    priority = rng.choice(PRIORITIES[event_type])
    match event_type:
        case EventType.NEW_EPISODE:
            series = rng.choice(catalog.series)
            latest = series.episodes[-rng.randrange(1, min(3, len(series.episodes)) + 1)]
            return PlannedEvent(event_type, priority, catalog.followers(series, max_recipients), [latest])
        case EventType.COMMENT_LIKED:
            commented = rng.choice(catalog.movies)["movie_id"]
            return PlannedEvent(event_type, priority, [rng.choice(users)], [commented])
        case EventType.NEW_RELEASES_PROMO:
            share = rng.uniform(*PROMO_SHARE)
            wanted = min(max_recipients, max(1, round(share * len(users))), len(users))
            newest = movie_ids[:PROMO_CANDIDATES]
            picked = rng.sample(newest, rng.randrange(1, min(4, len(newest)) + 1))
            return PlannedEvent(event_type, priority, rng.sample(users, wanted), picked)
        case EventType.WATCH_LATER_REMINDER:
            wanted = min(len(users), max_recipients, rng.choice((1, 1, 1, 2, 3)))
            return PlannedEvent(event_type, priority, rng.sample(users, wanted), [rng.choice(movie_ids)])


def plan_events(
    rng: random.Random, catalog: Catalog, count: int, *, max_recipients: int
) -> Iterator[PlannedEvent]:
    """A stream of `count` events: first one of each type (shuffled), then weighted by EVENT_WEIGHTS."""
    opening = list(EventType)
    rng.shuffle(opening)
    kinds, weights = list(EVENT_WEIGHTS), list(EVENT_WEIGHTS.values())
    for index in range(count):
        event_type = opening[index] if index < len(opening) else rng.choices(kinds, weights=weights)[0]
        yield plan_event(rng, catalog, event_type, max_recipients=max_recipients)
