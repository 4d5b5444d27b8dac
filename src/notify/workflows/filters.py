"""What templates may call besides Jinja's own filters: a movie's label, a list of movies, a greeting,
a date as the reader's locale writes it, the likes of a digest. Every template, built-in or saved
through the API, renders with these."""

from collections.abc import Mapping, Sequence
from datetime import date

from babel import Locale
from babel.dates import format_date

from notify.workflows.models import Content, Recipient

_SEASON_EPISODE = {
    "en": ("season {season}, episode {episode}", "season {season}"),
    "ru": ("сезон {season}, серия {episode}", "сезон {season}"),
}
_GREETING = {"en": ("Hi {name},", "Hi,"), "ru": ("{name}, здравствуйте!", "Здравствуйте!")}


def _known(locale: str) -> str:
    return locale if locale in _GREETING else "en"


def movie_label(movie: Content, locale: str) -> str:
    """«Title», with season and episode where they are set."""
    with_episode, season_only = _SEASON_EPISODE[_known(locale)]
    label = f"«{movie.title}»"
    if movie.season is not None and movie.episode is not None:
        return f"{label}, {with_episode.format(season=movie.season, episode=movie.episode)}"
    if movie.season is not None:
        return f"{label}, {season_only.format(season=movie.season)}"
    return label


def movie_labels(movies: Sequence[Content], locale: str) -> str:
    return ", ".join(movie_label(movie, locale) for movie in movies)


def greeting(user: Recipient, locale: str) -> str:
    named, plain = _GREETING[_known(locale)]
    return named.format(name=user.first_name) if user.first_name else plain


def plural(count: int, locale: str, forms: Mapping[str, str]) -> str:
    """The form of a word for `count` by the locale's CLDR plural rule (Babel): English has
    `one` and `other`, Russian `one` (1, 21…), `few` (2–4, 22–24…) and `many` (5–20, 25…)."""
    category = Locale.parse(locale).plural_form(count)
    return forms.get(category) or forms["other"]


_LIKED_BY = {
    "en": {"one": "{n} person liked", "other": "{n} people liked"},
    "ru": {
        "one": "{n} человек оценил",
        "few": "{n} человека оценили",
        "many": "{n} человек оценили",
        "other": "{n} человека оценили",
    },
}
_LIKED_BY_SOMEONE = {"en": "Someone liked", "ru": "Кому-то понравился"}


def likes_phrase(user: Recipient, locale: str) -> str:
    """ "5 people liked" / «5 человек оценили» for a digest, "Someone liked" for a single like."""
    locale = _known(locale)
    if user.digest_count is None:
        return _LIKED_BY_SOMEONE[locale]
    return plural(user.digest_count, locale, _LIKED_BY[locale]).format(n=user.digest_count)


def local_date(value: date, locale: str) -> str:
    """A date as the reader's locale writes it (24 нояб. 2026 г., Nov 24, 2026)."""
    return format_date(value, format="medium", locale=_known(locale))


FILTERS = {"movie": movie_label, "movies": movie_labels, "greeting": greeting, "local_date": local_date}
GLOBALS = {"likes": likes_phrase}
