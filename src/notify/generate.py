"""The event generator: a stand-in for the Auth API, the UGC API and the admin panel.

`python -m notify.generate` fills the service's directory with N users and M movies through the
HTTP API (PUT /directory/users, PUT /directory/movies, in batches) and then posts K events of all
four types to POST /events at a chosen rate, with a progress bar on stderr and a summary line on
stdout. It serves `make demo` and load tests; it needs nothing beyond the standard library.

    python -m notify.generate --api-url URL [--users N] [--movies M] [--events K] [--rate R]
        [--seed S] [--max-recipients X] [--skip-directory] [--output FILE]

- The data are made up but look real: Russian and English (also British and German) names,
  their locales and time zones, phones of the country (in fictional ranges where one exists),
  e-mail addresses on reserved `.example` domains (never deliverable), FCM-style push tokens;
  most users have an e-mail, some a phone, some a push token, a few nothing at all. Movies are
  films and episodes of series (season, episode, weekly release dates up to about today).
- Events: `new_episode` for the latest episode of a series to its followers (a fixed subset of
  the users per series), `comment_liked` to one user, `new_releases_promo` with the newest
  releases to many users at a low priority, `watch_later_reminder` to one to three users.
  The first four events of a stream are one of each type; after that the mix is weighted.
- The same --seed gives the same users, movies and event stream (release dates and birthdays
  are counted back from today); --skip-directory relies on that: run it with the --seed,
  --users and --movies of the run that filled the directory.
- Every event is sent with an Idempotency-Key of its own; a POST that timed out, met a
  connection error, a 5xx or a 429 is sent again, unchanged, with the same key and an
  exponential backoff (Retry-After is honoured). A 4xx is never retried: its body is printed
  and the event counted as failed. The exit code is 0 only if no event failed.
- --output FILE writes one JSON line per accepted event: the API's answer plus `event_type`.
"""

import argparse
import base64
import http.client
import json
import math
import random
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO

from notify.channels import EventType
from notify.models import MAX_USERS_PER_EVENT

ENDPOINTS_FILE = Path(".local/endpoints.json")
USER_AGENT = "notify-generate/1.0"

# ---- names, places, titles ------------------------------------------------------------------------

_RU_MALE = (
    "Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл",
    "Михаил", "Никита", "Иван", "Егор", "Роман", "Павел", "Денис", "Владимир", "Тимофей",
)  # fmt: skip
_RU_FEMALE = (
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Екатерина", "Татьяна", "Ирина", "Дарья",
    "Анастасия", "Юлия", "Светлана", "Полина", "Ксения", "Алина", "Софья", "Вера", "Варвара",
)  # fmt: skip
_RU_SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Ильин", "Сорокин", "Белов", "Медведев", "Тарасов", "Жуков", "Комаров", "Крылов",
    "Ковальский", "Вишневский", "Кравченко", "Шевченко", "Бондаренко", "Ким", "Цой",
)  # fmt: skip
_EN_MALE = (
    "James", "John", "Robert", "Michael", "William", "David", "Daniel", "Matthew", "Andrew",
    "Joshua", "Ryan", "Thomas", "Oliver", "Harry", "Jack", "George", "Samuel", "Benjamin",
)  # fmt: skip
_EN_FEMALE = (
    "Mary", "Jennifer", "Linda", "Emily", "Sarah", "Jessica", "Emma", "Olivia", "Sophia",
    "Charlotte", "Amelia", "Grace", "Chloe", "Hannah", "Lucy", "Megan", "Rachel", "Laura",
)  # fmt: skip
_EN_SURNAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Clark", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Carter", "Mitchell", "Turner", "Parker", "Collins", "Evans", "Morris", "Murphy",
    "Cook", "Rogers", "Cooper", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "O'Brien",
)  # fmt: skip
_DE_MALE = ("Lukas", "Leon", "Felix", "Jonas", "Maximilian", "Paul", "Tobias", "Jan", "Niklas", "Stefan")
_DE_FEMALE = ("Anna", "Lena", "Laura", "Julia", "Sophie", "Lea", "Marie", "Katharina", "Sarah", "Jana")
_DE_SURNAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
)  # fmt: skip

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "'": "",
}  # fmt: skip


@dataclass(frozen=True)
class _Region:
    """Where a kind of user lives: language, names, time zones, phone numbers, mail providers."""

    locale: str
    weight: float
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]
    zones: tuple[tuple[str, float], ...]
    phone: Callable[[random.Random], str]
    mail_domains: tuple[str, ...]
    russian_surnames: bool = False


def _phone_ru(rng: random.Random) -> str:
    return f"+79{rng.randrange(10**9):09d}"


def _phone_us(rng: random.Random) -> str:
    # 555-0100…555-0199: the range reserved for fiction.
    return f"+1{rng.choice((212, 312, 415, 617, 646, 718, 917))}55501{rng.randrange(100):02d}"


def _phone_gb(rng: random.Random) -> str:
    # 07700 900000…900999: Ofcom's range for drama.
    return f"+447700900{rng.randrange(1000):03d}"


def _phone_de(rng: random.Random) -> str:
    return f"+49{rng.choice((151, 160, 170, 176))}{rng.randrange(10**8):08d}"


_REGIONS = (
    _Region(
        locale="ru",
        weight=0.58,
        male=_RU_MALE,
        female=_RU_FEMALE,
        surnames=_RU_SURNAMES,
        zones=(
            ("Europe/Moscow", 0.58),
            ("Asia/Yekaterinburg", 0.12),
            ("Asia/Novosibirsk", 0.08),
            ("Europe/Samara", 0.06),
            ("Asia/Vladivostok", 0.05),
            ("Europe/Kaliningrad", 0.03),
            ("Europe/Berlin", 0.04),
            ("Asia/Almaty", 0.04),
        ),
        phone=_phone_ru,
        mail_domains=("yandex.example", "mail.example", "gmail.example", "rambler.example"),
        russian_surnames=True,
    ),
    _Region(
        locale="en",
        weight=0.24,
        male=_EN_MALE,
        female=_EN_FEMALE,
        surnames=_EN_SURNAMES,
        zones=(("America/New_York", 0.55), ("America/Chicago", 0.2), ("America/Los_Angeles", 0.25)),
        phone=_phone_us,
        mail_domains=("gmail.example", "outlook.example", "icloud.example", "yahoo.example"),
    ),
    _Region(
        locale="en",
        weight=0.1,
        male=_EN_MALE,
        female=_EN_FEMALE,
        surnames=_EN_SURNAMES,
        zones=(("Europe/London", 1.0),),
        phone=_phone_gb,
        mail_domains=("gmail.example", "btinternet.example", "outlook.example"),
    ),
    _Region(
        locale="en",
        weight=0.08,
        male=_DE_MALE,
        female=_DE_FEMALE,
        surnames=_DE_SURNAMES,
        zones=(("Europe/Berlin", 1.0),),
        phone=_phone_de,
        mail_domains=("gmx.example", "web.example", "gmail.example"),
    ),
)

# Shares of users with each contact (drawn independently: about 3% end up with none at all).
EMAIL_SHARE = 0.9
PHONE_SHARE = 0.35
PUSH_SHARE = 0.45
BIRTHDAY_SHARE = 0.85
UNSET_ZONE_SHARE = 0.05  # profiles that never set a time zone: the directory's default, UTC

_RU_ADJECTIVES = (
    "Тихий", "Северный", "Последний", "Долгий", "Холодный", "Чужой", "Золотой", "Ночной",
    "Белый", "Дальний", "Шестой", "Старый", "Солнечный", "Железный",
)  # fmt: skip
_RU_NOUNS = (
    "берег", "ветер", "рейс", "маяк", "перевал", "город", "сезон", "двор", "поезд", "след",
    "свидетель", "океан", "остров", "участок",
)  # fmt: skip
_EN_ADJECTIVES = (
    "Silent", "Northern", "Last", "Long", "Cold", "Hidden", "Golden", "Midnight", "Broken",
    "Distant", "Iron", "Quiet", "Burning", "Paper",
)  # fmt: skip
_EN_NOUNS = (
    "Harbour", "Wind", "Flight", "Lighthouse", "Pass", "City", "Season", "Garden", "Train",
    "Trail", "Witness", "Ocean", "Island", "Precinct",
)  # fmt: skip

SERIES_SHARE = 0.6  # of the movies rows, episodes of series; the rest are films
EPISODES_PER_SERIES = 6  # on average, to decide how many series there are

# ---- events -----------------------------------------------------------------------------------

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
FOLLOWER_SHARE = (0.05, 0.4)  # of all users follow a given series
PROMO_SHARE = (0.3, 1.0)  # of all users get a given promo
PROMO_CANDIDATES = 12  # the newest films a promo picks from


# ---- building the data --------------------------------------------------------------------------


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted[T](rng: random.Random, pairs: Sequence[tuple[T, float]]) -> T:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _ascii(text: str) -> str:
    return "".join(_TRANSLIT.get(char, char) for char in text.lower())


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
    regions = [(region, region.weight) for region in _REGIONS]
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
    adjectives, nouns = (_RU_ADJECTIVES, _RU_NOUNS) if russian else (_EN_ADJECTIVES, _EN_NOUNS)
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


# ---- talking to the API -------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Transport(Protocol):
    """Sends a request and returns the answer, whatever its status; raises OSError (or an
    http.client.HTTPException) when there is no answer: refused, reset, timed out."""

    def __call__(self, request: urllib.request.Request, timeout: float) -> HttpAnswer: ...


def urllib_transport(request: urllib.request.Request, timeout: float) -> HttpAnswer:
    try:
        # The scheme was checked by ApiClient: http or https only.
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return HttpAnswer(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpAnswer(error.code, dict(error.headers.items()), error.read())


class ApiError(Exception):
    """A request that failed for good: a 4xx, or no success after every attempt."""

    def __init__(self, method: str, path: str, status: int | None, detail: str) -> None:
        self.status = status
        self.detail = detail
        where = f"{method} {path}"
        super().__init__(f"{where}: HTTP {status}: {detail}" if status else f"{where}: {detail}")


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class ApiClient:
    """The service's HTTP API over a Transport, with timeouts and retries with backoff."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: Transport = urllib_transport,
        timeout_s: float = 30.0,
        attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: random.Random | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the API URL must be http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._transport = transport
        self._timeout_s = timeout_s
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._jitter = jitter or random.Random()
        self._lock = threading.Lock()
        self.retries = 0

    def put_users(self, users: Sequence[Mapping[str, Any]]) -> int:
        return int(self.request("PUT", "/directory/users", list(users))["upserted"])

    def put_movies(self, movies: Sequence[Mapping[str, Any]]) -> int:
        return int(self.request("PUT", "/directory/movies", list(movies))["upserted"])

    def post_event(self, body: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self.request("POST", "/events", body, headers={"Idempotency-Key": idempotency_key})

    def request(
        self, method: str, path: str, body: Any = None, *, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Send (and re-send, unchanged) until an answer that is not worth retrying; its JSON."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        problem = ""
        status: int | None = None
        for attempt in range(1, self._attempts + 1):
            # The scheme was checked in __init__: http or https only.
            request = urllib.request.Request(  # noqa: S310
                self.base_url + path, data=data, headers=all_headers, method=method
            )
            delay: float | None = None
            try:
                answer = self._transport(request, self._timeout_s)
            except (OSError, http.client.HTTPException) as error:
                status, problem = None, f"{type(error).__name__}: {error}"
            else:
                status = answer.status
                if 200 <= answer.status < 300:
                    return self._json(method, path, answer)
                if not _retryable(answer.status):
                    raise ApiError(method, path, answer.status, _short(answer.text))
                problem = f"HTTP {answer.status}: {_short(answer.text)}"
                delay = _retry_after(answer.headers)
            if attempt == self._attempts:
                break
            with self._lock:
                self.retries += 1
            self._sleep(delay if delay is not None else self._backoff(attempt))
        raise ApiError(method, path, status, f"gave up after {self._attempts} attempts; last: {problem}")

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1))
        with self._lock:
            return float(ceiling * self._jitter.uniform(0.5, 1.0))

    @staticmethod
    def _json(method: str, path: str, answer: HttpAnswer) -> dict[str, Any]:
        try:
            parsed = json.loads(answer.body) if answer.body else {}
        except ValueError:
            raise ApiError(method, path, answer.status, f"not JSON: {_short(answer.text)}") from None
        if not isinstance(parsed, dict):
            raise ApiError(method, path, answer.status, f"not a JSON object: {_short(answer.text)}")
        return parsed


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return min(60.0, max(0.0, float(value)))
            except ValueError:
                return None
    return None


# ---- pacing and progress ------------------------------------------------------------------------


class Pacer:
    """Spaces calls `1/rate` seconds apart on a schedule (a late call is not followed by a burst
    of more than a second's worth of catching up). rate <= 0: no pacing."""

    MAX_LAG_S = 1.0

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._due: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        if self._due is None or self._due < now - self.MAX_LAG_S:
            self._due = now
        if self._due > now:
            self._sleep(self._due - now)
        self._due += self.interval


class Progress:
    """A one-line progress bar on a terminal (redrawn with \\r); silent on anything else."""

    WIDTH = 24

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 0.1,
    ) -> None:
        self._stream = stream
        self.enabled = _is_tty(stream) if enabled is None else enabled
        self._clock = clock
        self._every_s = every_s
        self._label = ""
        self._total = 0
        self._started = 0.0
        self._drawn_at: float | None = None
        self._width = 0

    def start(self, label: str, total: int) -> None:
        self._label, self._total, self._started, self._drawn_at = label, total, self._clock(), None

    def update(self, done: int, *, errors: int = 0, extra: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and self._drawn_at is not None and now - self._drawn_at < self._every_s:
            return
        self._drawn_at = now
        share = done / self._total if self._total else 1.0
        filled = round(self.WIDTH * share)
        elapsed = now - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        line = (
            f"{self._label} {done}/{self._total} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{share:4.0%} {rate:.1f}/s errors {errors}{'  ' + extra if extra else ''}"
        )
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = len(line)

    def note(self, text: str) -> None:
        """A line of its own (an error), printed above the bar."""
        if self.enabled and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._width = 0
            self._drawn_at = None
        self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self) -> None:
        if self.enabled and self._width:
            self._stream.write("\n")
            self._stream.flush()
            self._width = 0


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    api_url: str
    users: int = 1000
    movies: int = 100
    events: int = 100
    rate: float = 10.0
    seed: int = 42
    max_recipients: int = 5000
    skip_directory: bool = False
    output: Path | None = None
    batch_size: int = 1000
    concurrency: int = 4
    timeout_s: float = 30.0


@dataclass
class Summary:
    users: int = 0
    movies: int = 0
    posted: int = 0
    accepted: int = 0
    failed: int = 0
    notifications: int = 0
    elapsed_s: float = 0.0
    events_elapsed_s: float = 0.0  # from the first event posted to the last answer
    directory_failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.directory_failed

    def line(self, retries: int = 0) -> str:
        rate = self.posted / self.events_elapsed_s if self.events_elapsed_s > 0 else 0.0
        return (
            f"users {self.users}, movies {self.movies}, events posted {self.posted}, "
            f"accepted {self.accepted}, failed {self.failed}, notifications {self.notifications}, "
            f"retries {retries}, elapsed {self.elapsed_s:.1f}s (events {rate:.1f}/s)"
        )


MAX_SHOWN_ERRORS = 20


class Run:
    """One generator run: fill the directory, then post the event stream."""

    def __init__(
        self,
        options: Options,
        client: ApiClient,
        *,
        stderr: TextIO = sys.stderr,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        today: date | None = None,
        new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
        progress: Progress | None = None,
    ) -> None:
        self.options = options
        self.client = client
        self.summary = Summary()
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._today = today or date.today()
        self._new_key = new_key
        self._progress = progress or Progress(stderr, clock=clock)
        self._shown_errors = 0
        self._output: TextIO | None = None

    def execute(self) -> Summary:
        started = self._clock()
        opts = self.options
        catalog = build_catalog(opts.seed, opts.users, opts.movies, today=self._today)
        try:
            if opts.output is not None:
                self._output = opts.output.open("w", encoding="utf-8")
            if not opts.skip_directory:
                self._fill_directory(catalog)
            if not self.summary.directory_failed and opts.events > 0:
                self._post_events(catalog)
        finally:
            if self._output is not None:
                self._output.close()
            self.summary.elapsed_s = self._clock() - started
        return self.summary

    def _error(self, text: str) -> None:
        self._shown_errors += 1
        if self._shown_errors <= MAX_SHOWN_ERRORS:
            self._progress.note(f"error: {text}")
        elif self._shown_errors == MAX_SHOWN_ERRORS + 1:
            self._progress.note("error: … (further errors are counted, not shown)")

    def _fill_directory(self, catalog: Catalog) -> None:
        size = max(1, self.options.batch_size)
        for label, rows, put in (
            ("users", catalog.users, self.client.put_users),
            ("movies", catalog.movies, self.client.put_movies),
        ):
            self._progress.start(label, len(rows))
            done = 0
            for start in range(0, len(rows), size):
                try:
                    put(rows[start : start + size])
                except ApiError as error:
                    self._progress.finish()
                    self._error(f"{error} (directory not filled; no events posted)")
                    self.summary.directory_failed = True
                    return
                done += len(rows[start : start + size])
                self._progress.update(done, force=done == len(rows))
            self._progress.finish()
            if label == "users":
                self.summary.users = done
            else:
                self.summary.movies = done

    def _post_events(self, catalog: Catalog) -> None:
        opts = self.options
        if not catalog.users or not catalog.movies:
            self._error("events need at least one user and one movie")
            self.summary.failed = opts.events
            return
        if opts.skip_directory:
            self.summary.users, self.summary.movies = len(catalog.users), len(catalog.movies)
        plan = plan_events(
            random.Random(f"{opts.seed}:events"), catalog, opts.events, max_recipients=opts.max_recipients
        )
        pacer = Pacer(opts.rate, clock=self._clock, sleep=self._sleep)
        self._progress.start("events", opts.events)
        started = self._clock()
        pending: set[Future[dict[str, Any]]] = set()
        kinds: dict[Future[dict[str, Any]], EventType] = {}
        with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
            try:
                for planned in plan:
                    while len(pending) >= max(1, opts.concurrency):
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        self._record(finished, kinds)
                    pacer.wait()
                    body = planned.body(self._now())
                    future = pool.submit(self.client.post_event, body, self._new_key())
                    kinds[future] = planned.event_type
                    pending.add(future)
                    self.summary.posted += 1
                    finished = {f for f in pending if f.done()}
                    pending -= finished
                    self._record(finished, kinds)
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    self._record(finished, kinds)
            except KeyboardInterrupt:
                for future in pending:
                    future.cancel()
                self._progress.finish()
                self._error("interrupted")
                self.summary.failed += sum(1 for f in pending if f.cancelled())
                raise
        self.summary.events_elapsed_s = self._clock() - started
        self._draw(force=True)
        self._progress.finish()

    def _draw(self, *, force: bool = False) -> None:
        done = self.summary.accepted + self.summary.failed
        extra = f"notifications {self.summary.notifications}"
        self._progress.update(done, errors=self.summary.failed, extra=extra, force=force)

    def _record(
        self, finished: set[Future[dict[str, Any]]], kinds: dict[Future[dict[str, Any]], EventType]
    ) -> None:
        for future in finished:
            event_type = kinds.pop(future)
            try:
                answer = future.result()
            except ApiError as error:
                self.summary.failed += 1
                self._error(f"{event_type}: {error}")
            else:
                self.summary.accepted += 1
                self.summary.notifications += int(answer.get("notifications", 0))
                if self._output is not None:
                    line = json.dumps({**answer, "event_type": str(event_type)}, ensure_ascii=False)
                    self._output.write(line + "\n")
                    self._output.flush()
        self._draw()


# ---- the command line ---------------------------------------------------------------------------


def default_api_url(path: Path = ENDPOINTS_FILE) -> str | None:
    """The "api_url" of .local/endpoints.json (written by the local stack), if there is one."""
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("api_url")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def _positive_or_zero(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _recipients(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_USERS_PER_EVENT:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_USERS_PER_EVENT}")
    return value


def parser() -> argparse.ArgumentParser:
    defaults = Options(api_url="")
    cli = argparse.ArgumentParser(
        prog="python -m notify.generate",
        description="Fill the directory with users and movies and post a stream of events to the HTTP API.",
    )
    cli.add_argument(
        "--api-url",
        help=f'the API\'s base URL (default: "api_url" of {ENDPOINTS_FILE}, if present)',
    )
    cli.add_argument("--users", type=_positive_or_zero, default=defaults.users, help="users (%(default)s)")
    cli.add_argument("--movies", type=_positive_or_zero, default=defaults.movies, help="movies (%(default)s)")
    cli.add_argument("--events", type=_positive_or_zero, default=defaults.events, help="events (%(default)s)")
    cli.add_argument(
        "--rate",
        type=float,
        default=defaults.rate,
        help="events per second, 0: as fast as possible (%(default)s)",
    )
    cli.add_argument("--seed", type=int, default=defaults.seed, help="random seed (%(default)s)")
    cli.add_argument(
        "--max-recipients",
        type=_recipients,
        default=defaults.max_recipients,
        help="most users in one event (%(default)s)",
    )
    cli.add_argument(
        "--skip-directory",
        action="store_true",
        help="do not upload users and movies (a run with the same --seed/--users/--movies did)",
    )
    cli.add_argument("--output", type=Path, help="write the accepted answers to this file, one JSON a line")
    cli.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help="directory rows per PUT (%(default)s)"
    )
    cli.add_argument(
        "--concurrency", type=int, default=defaults.concurrency, help="events in flight at most (%(default)s)"
    )
    cli.add_argument(
        "--timeout", type=float, default=defaults.timeout_s, help="seconds per request (%(default)s)"
    )
    return cli


def main(
    argv: Sequence[str] | None = None,
    *,
    transport: Transport = urllib_transport,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    cli = parser()
    args = cli.parse_args(argv)
    api_url = args.api_url or default_api_url()
    if not api_url:
        cli.error(f"no --api-url given and no api_url in {ENDPOINTS_FILE}")
    if args.events and (not args.users or not args.movies):
        cli.error("events need --users and --movies of at least 1")
    options = Options(
        api_url=api_url,
        users=args.users,
        movies=args.movies,
        events=args.events,
        rate=args.rate,
        seed=args.seed,
        max_recipients=args.max_recipients,
        skip_directory=args.skip_directory,
        output=args.output,
        batch_size=max(1, args.batch_size),
        concurrency=max(1, args.concurrency),
        timeout_s=args.timeout,
    )
    try:
        client = ApiClient(api_url, transport=transport, timeout_s=options.timeout_s)
    except ValueError as error:
        cli.error(str(error))
    run = Run(options, client, stderr=err)
    try:
        summary = run.execute()
    except KeyboardInterrupt:
        print(run.summary.line(client.retries), file=out)
        return 130
    print(summary.line(client.retries), file=out)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
