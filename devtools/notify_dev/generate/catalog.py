"""The directory a seed builds: users (names, contacts, locales, zones, birthdays) and movies (films,
and the episodes of series, released weekly up to about today)."""

import base64
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from notify_dev.generate.names import (
    BIRTHDAY_SHARE,
    EMAIL_SHARE,
    EN_ADJECTIVES,
    EN_NOUNS,
    EPISODES_PER_SERIES,
    PHONE_SHARE,
    PUSH_SHARE,
    REGIONS,
    RU_ADJECTIVES,
    RU_NOUNS,
    SERIES_SHARE,
    TRANSLIT,
    UNSET_ZONE_SHARE,
)

FOLLOWER_SHARE = (0.05, 0.4)  # of all users follow a given series


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted[T](rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _ascii(text: str) -> str:
    return "".join(TRANSLIT.get(char, char) for char in text.lower())


def _feminine(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ский"):
        return surname[:-4] + "ская"
    return surname  # -енко, Ким, Цой…


def _email(rng: random.Random, first: str, last: str, birthday: date | None, domains: Sequence[str]) -> str:
    first_part, last_part = _ascii(first), _ascii(last)
    year = birthday.year if birthday else rng.randrange(1960, 2008)
    local = rng.choice(
        (
            f"{first_part}.{last_part}",
            f"{first_part[0]}.{last_part}",
            f"{first_part}{last_part}{rng.randrange(1, 100)}",
            f"{first_part}_{last_part}{year}",
            f"{last_part}.{first_part}{year % 100:02d}",
        )
    )
    return f"{local}@{rng.choice(domains)}"


def _push_token(rng: random.Random) -> str:
    """An FCM registration token's shape: an instance id, ':APA91b' and a signed blob."""

    def text(size: int) -> str:
        return base64.urlsafe_b64encode(rng.randbytes(size)).decode().rstrip("=")

    return f"{text(17)[:22]}:APA91b{text(101)[:134]}"


def build_users(rng: random.Random, count: int, *, today: date) -> list[dict[str, Any]]:
    """`count` directory users (DirectoryUser's JSON fields), drawn from `rng`."""
    regions = [(region, region.weight) for region in REGIONS]
    users: list[dict[str, Any]] = []
    taken: set[str] = set()
    for _ in range(count):
        region = _weighted(rng, regions)
        user_id = _uuid(rng)
        female = rng.random() < 0.5
        first = rng.choice(region.female if female else region.male)
        last = rng.choice(region.surnames)
        if female and region.russian_surnames:
            last = _feminine(last)
        birthday = (
            today - timedelta(days=rng.randrange(16 * 365, 75 * 365))
            if rng.random() < BIRTHDAY_SHARE
            else None
        )
        email = None
        if rng.random() < EMAIL_SHARE:
            email = _email(rng, first, last, birthday, region.mail_domains)
            while email in taken:
                local, _, domain = email.partition("@")
                email = f"{local}{rng.randrange(10)}@{domain}"
            taken.add(email)
        phone = region.phone(rng) if rng.random() < PHONE_SHARE else None
        push_token = _push_token(rng) if rng.random() < PUSH_SHARE else None
        zone = "UTC" if rng.random() < UNSET_ZONE_SHARE else _weighted(rng, region.zones)
        users.append(
            {
                "user_id": str(user_id),
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": phone,
                "push_token": push_token,
                "birthday": birthday.isoformat() if birthday else None,
                "locale": region.locale,
                "timezone": zone,
            }
        )
    return users


@dataclass(frozen=True)
class Series:
    """A series' episodes (movie ids, oldest first) and who follows it."""

    title: str
    episodes: tuple[str, ...]
    follower_share: float
    follower_seed: int


@dataclass(frozen=True)
class Catalog:
    """What the generator put in the directory, and what its events refer to."""

    users: list[dict[str, Any]]
    movies: list[dict[str, Any]]
    series: list[Series]
    films: list[str]  # movie ids of films, newest first
    user_ids: list[str] = field(init=False)
    _followers: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_ids", [user["user_id"] for user in self.users])
        object.__setattr__(self, "_followers", {})

    def followers(self, series: Series, limit: int) -> list[str]:
        """The users who follow a series: the same ones every time (at most `limit` of them)."""
        if series.title not in self._followers:
            wanted = min(len(self.user_ids), max(1, round(series.follower_share * len(self.user_ids))))
            self._followers[series.title] = random.Random(series.follower_seed).sample(self.user_ids, wanted)
        return self._followers[series.title][:limit]


def _title(rng: random.Random, russian: bool, taken: set[str]) -> str:
    adjectives, nouns = (RU_ADJECTIVES, RU_NOUNS) if russian else (EN_ADJECTIVES, EN_NOUNS)
    title = f"{rng.choice(adjectives)} {rng.choice(nouns).lower() if russian else rng.choice(nouns)}"
    if not russian:
        title = f"The {title}" if rng.random() < 0.5 else title
    sequel = 2
    unique = title
    while unique in taken:
        unique = f"{title} {sequel}"
        sequel += 1
    taken.add(unique)
    return unique


def build_movies(rng: random.Random, count: int, *, today: date) -> tuple[list[dict[str, Any]], list[Series]]:
    """`count` directory movies (DirectoryMovie's JSON fields): films and episodes of series.

    With at least one movie there is at least one series episode (new_episode needs one)."""
    if count <= 0:
        return [], []
    episode_rows = max(1, round(count * SERIES_SHARE))
    film_rows = count - episode_rows
    titles: set[str] = set()
    movies: list[dict[str, Any]] = []

    series_count = max(1, math.ceil(episode_rows / EPISODES_PER_SERIES))
    quotas = [1] * series_count
    for _ in range(episode_rows - series_count):
        quotas[rng.randrange(series_count)] += 1
    series: list[Series] = []
    for quota in quotas:
        title = _title(rng, rng.random() < 0.5, titles)
        per_season = rng.randrange(6, 13)
        first_season = 1 if rng.random() < 0.7 else rng.randrange(2, 5)
        # Weekly episodes; the latest out up to two weeks ago (or a few weeks, a finished season).
        latest = today - timedelta(days=rng.choice((0, 1, 3, 7, 14, 30, 90)))
        last_season = (quota - 1) // per_season
        episode_ids = []
        for number in range(quota):
            season, episode = divmod(number, per_season)
            movie_id = str(_uuid(rng))
            episode_ids.append(movie_id)
            # A year between seasons: each earlier season is about 40 weeks further back.
            released = latest - timedelta(weeks=(quota - 1 - number) + 40 * (last_season - season))
            movies.append(
                {
                    "movie_id": movie_id,
                    "title": title,
                    "season": first_season + season,
                    "episode": episode + 1,
                    "release_date": released.isoformat(),
                }
            )
        series.append(
            Series(
                title=title,
                episodes=tuple(episode_ids),
                follower_share=rng.uniform(*FOLLOWER_SHARE),
                follower_seed=rng.getrandbits(64),
            )
        )

    films: list[tuple[date, str]] = []
    for _ in range(film_rows):
        movie_id = str(_uuid(rng))
        # A third are this season's releases, the rest back catalogue.
        age_days = rng.randrange(0, 90) if rng.random() < 0.33 else rng.randrange(90, 50 * 365)
        released = today - timedelta(days=age_days)
        films.append((released, movie_id))
        movies.append(
            {
                "movie_id": movie_id,
                "title": _title(rng, rng.random() < 0.5, titles),
                "season": None,
                "episode": None,
                "release_date": released.isoformat(),
            }
        )
    rng.shuffle(movies)
    return movies, series


def build_catalog(seed: int, users: int, movies: int, *, today: date) -> Catalog:
    """Users and movies of a seed; each from a stream of its own, so --users does not move movies."""
    user_rows = build_users(random.Random(f"{seed}:users"), users, today=today)
    movie_rows, series = build_movies(random.Random(f"{seed}:movies"), movies, today=today)
    dated = sorted(
        ((row["release_date"], row["movie_id"]) for row in movie_rows if row["season"] is None), reverse=True
    )
    return Catalog(user_rows, movie_rows, series, [movie_id for _, movie_id in dated])
