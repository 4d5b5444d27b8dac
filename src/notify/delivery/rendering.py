"""Turning a queue message into the text a person reads: Jinja2 templates per event type, channel, locale."""

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

import jinja2
from babel import Locale
from babel.dates import format_date

from notify.channels import Channel, EventType
from notify.delivery.models import Content, Recipient
from notify.delivery.ports import Rendered
from notify.delivery.unsubscribe_links import UnsubscribeLinks
from notify.errors import PermanentError

# The templates stay at the package root, as data every capability may one day render from.
TEMPLATE_DIR = Path(__file__).parent.parent / "templates"


class TemplateRenderer:
    def __init__(self, template_dir: Path = TEMPLATE_DIR, links: UnsubscribeLinks | None = None) -> None:
        self._template_dir = template_dir
        self._links = links

    @cached_property
    def _env(self) -> jinja2.Environment:
        # Templates ship with the code and never change under a running environment: auto_reload
        # would stat every template file on each render (a tenth of a sender's CPU, issue 27).
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self._template_dir),
            auto_reload=False,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
        )
        # Filters, not macros: a macro's output escapes as its caller does, a filter's str is escaped in HTML.
        env.filters.update(movie=movie_label, movies=movie_labels, greeting=greeting, local_date=local_date)
        env.globals.update(likes=likes_phrase)
        return env

    def render_page(self, name: str, **context: object) -> str:
        """A web page of the service (HTML, escaped), from templates/pages/<name>.html."""
        return self._env.get_template(f"pages/{name}.html").render(context)

    def render(
        self, event_type: EventType, channel: Channel, user: Recipient, content: Sequence[Content]
    ) -> Rendered:
        unsubscribe = (
            self._links.link_for(user.user_id, event_type)
            if self._links is not None and channel is Channel.EMAIL
            else None
        )
        context = {
            "user": user,
            "content": list(content),
            "locale": user.locale,
            "unsubscribe_url": unsubscribe,
        }
        try:
            text_template = self._env.get_template(f"{channel}/{event_type}.{user.locale}.txt")
            blocks = text_template.new_context(context)
            text = "".join(text_template.blocks["body"](blocks)).strip()
            subject = (
                "".join(text_template.blocks["subject"](blocks)).strip()
                if "subject" in text_template.blocks
                else None
            )
            html = (
                self._env.get_template(f"{channel}/{event_type}.{user.locale}.html").render(context)
                if channel is Channel.EMAIL
                else None
            )
        except jinja2.TemplateError as error:
            raise PermanentError(f"template for {event_type}/{channel}/{user.locale}: {error}") from error
        return Rendered(text=text, subject=subject, html=html, unsubscribe_url=unsubscribe)


_SEASON_EPISODE = {
    "en": ("season {season}, episode {episode}", "season {season}"),
    "ru": ("сезон {season}, серия {episode}", "сезон {season}"),
}
_GREETING = {"en": ("Hi {name},", "Hi,"), "ru": ("{name}, здравствуйте!", "Здравствуйте!")}


def movie_label(movie: Content, locale: str) -> str:
    """«Title», with season and episode where they are set."""
    with_episode, season_only = _SEASON_EPISODE[locale]
    label = f"«{movie.title}»"
    if movie.season is not None and movie.episode is not None:
        return f"{label}, {with_episode.format(season=movie.season, episode=movie.episode)}"
    if movie.season is not None:
        return f"{label}, {season_only.format(season=movie.season)}"
    return label


def movie_labels(movies: Sequence[Content], locale: str) -> str:
    return ", ".join(movie_label(movie, locale) for movie in movies)


def greeting(user: Recipient, locale: str) -> str:
    named, plain = _GREETING[locale]
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
    if user.digest_count is None:
        return _LIKED_BY_SOMEONE[locale]
    return plural(user.digest_count, locale, _LIKED_BY[locale]).format(n=user.digest_count)


def local_date(value: date, locale: str) -> str:
    """A date as the reader's locale writes it (24 нояб. 2026 г., Nov 24, 2026)."""
    return format_date(value, format="medium", locale=locale)
