import pytest

from notify.channels import EVENT_CHANNELS, Channel, EventType
from notify.delivery.models import Recipient
from notify.delivery.rendering import TemplateRenderer, movie_label
from notify.errors import PermanentError
from notify.workflows import KeptVersions, ShippedBuiltIns, WorkflowDefinition, WorkflowVersion
from tests.unit.builders import content, recipient

PAIRS = [(event_type, channel) for event_type, channels in EVENT_CHANNELS.items() for channel in channels]
LABELS = {"en": "«The Long Night», season 2, episode 5", "ru": "«The Long Night», сезон 2, серия 5"}


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def contacts(channel: Channel, locale: str) -> Recipient:
    return recipient(
        email="alice@example.com" if channel is Channel.EMAIL else None,
        phone="+79161234567" if channel is Channel.SMS else None,
        push_token="token-1" if channel is Channel.PUSH else None,
        locale=locale,
    )


@pytest.mark.parametrize("locale", ["ru", "en"])
@pytest.mark.parametrize(("event_type", "channel"), PAIRS)
def test_render_every_event_channel_pair_names_the_title_with_season_and_episode(
    renderer: TemplateRenderer, event_type: EventType, channel: Channel, locale: str
) -> None:
    rendered = renderer.render(event_type, channel, contacts(channel, locale), [content()])
    assert LABELS[locale] in rendered.text
    if channel is Channel.EMAIL:
        assert rendered.subject
        assert LABELS[locale] in rendered.subject
        assert rendered.html is not None
        assert LABELS[locale] in rendered.html
        assert f'<html lang="{locale}">' in rendered.html
    else:
        assert rendered.html is None
    if channel is Channel.SMS:
        assert rendered.subject is None
    if channel is Channel.PUSH:
        assert rendered.subject  # the push title


def test_render_greets_by_first_name_in_the_users_locale(renderer: TemplateRenderer) -> None:
    ru = renderer.render(
        EventType.NEW_EPISODE,
        Channel.EMAIL,
        recipient(email="b@example.ru", locale="ru", first_name="Борис"),
        [content()],
    )
    en = renderer.render(
        EventType.NEW_EPISODE, Channel.EMAIL, recipient(email="a@example.com", first_name=None), [content()]
    )
    assert ru.text.startswith("Борис, здравствуйте!")
    assert "Вышла новая серия" in ru.text
    assert en.text.startswith("Hi,")
    assert "A new episode is out" in en.text


def test_render_promo_lists_every_movie(renderer: TemplateRenderer) -> None:
    movies = [content(title="First", season=None, episode=None), content(title="Second", episode=None)]
    rendered = renderer.render(
        EventType.NEW_RELEASES_PROMO, Channel.EMAIL, recipient(email="a@example.com"), movies
    )
    assert "- «First» (from Mar 14, 2025)" in rendered.text
    assert "- «Second», season 2 (from Mar 14, 2025)" in rendered.text
    assert rendered.html is not None
    assert rendered.html.count("<li>") == 2


def test_render_html_escapes_script_in_titles_while_text_keeps_it(renderer: TemplateRenderer) -> None:
    title = "<script>alert('x')</script> & Co"
    rendered = renderer.render(
        EventType.NEW_EPISODE, Channel.EMAIL, recipient(email="a@example.com"), [content(title=title)]
    )
    assert rendered.html is not None
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in rendered.html
    assert title in rendered.text
    assert rendered.subject is not None
    assert title in rendered.subject


def test_render_html_escapes_the_first_name(renderer: TemplateRenderer) -> None:
    user = recipient(email="a@example.com", first_name="<b>Eve</b>")
    rendered = renderer.render(EventType.COMMENT_LIKED, Channel.EMAIL, user, [content()])
    assert rendered.html is not None
    assert "&lt;b&gt;Eve&lt;/b&gt;" in rendered.html
    assert "<b>Eve</b>" in rendered.text


def test_render_missing_template_raises_permanent_error(renderer: TemplateRenderer) -> None:
    # Promotions go out by e-mail only: there is no SMS template for them.
    with pytest.raises(PermanentError, match="new_releases_promo/sms/en"):
        renderer.render(EventType.NEW_RELEASES_PROMO, Channel.SMS, recipient(phone="+79161234567"), [])


def _sms_only(text: str) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(
        {"steps": [{"type": "send", "channel": "sms"}], "templates": {"sms": {"en": {"text": text}}}}
    )


class CountingVersions:
    """WorkflowVersions that counts its reads."""

    def __init__(self, definitions: dict[str, WorkflowDefinition]) -> None:
        self.shipped, self.reads = ShippedBuiltIns(definitions), 0

    def find_version(self, key: str, version: int) -> WorkflowVersion | None:
        self.reads += 1
        return self.shipped.find_version(key, version)


def test_render_template_error_raises_permanent_error() -> None:
    # A template that compiles but fails at render (saved ones are checked first: this one was not).
    renderer = TemplateRenderer(
        KeptVersions(ShippedBuiltIns({"new_episode": _sms_only("{{ nothing.here }}")}))
    )
    with pytest.raises(PermanentError, match="new_episode/sms/en"):
        renderer.render(EventType.NEW_EPISODE, Channel.SMS, recipient(phone="+79161234567"), [content()])


def test_a_version_is_read_and_compiled_once_per_renderer() -> None:
    # A sender renders each recipient's message: reading the version or compiling its template per
    # render would be paid per recipient (issue 27 found a tenth of a sender's CPU in a file stat).
    versions = CountingVersions({"new_episode": _sms_only("first {{ content | movies(locale) }}")})
    kept = KeptVersions(versions)
    renderer = TemplateRenderer(kept)
    sms = recipient(phone="+79161234567")

    texts = {renderer.render(EventType.NEW_EPISODE, Channel.SMS, sms, [content()]).text for _ in range(3)}

    assert texts == {f"first {LABELS['en']}"}
    assert versions.reads == 1
    _, compiled = kept.compiled("new_episode", 1)
    assert compiled.template(Channel.SMS, "en", "text") is compiled.template(Channel.SMS, "en", "text")


@pytest.mark.parametrize(
    ("season", "episode", "expected"),
    [
        (None, None, "«T»"),
        (1, None, "«T», season 1"),
        (1, 3, "«T», season 1, episode 3"),
        (None, 3, "«T»"),
    ],
)
def test_movie_label_includes_season_and_episode_when_set(
    season: int | None, episode: int | None, expected: str
) -> None:
    assert movie_label(content(title="T", season=season, episode=episode), "en") == expected


@pytest.mark.parametrize(
    ("count", "locale", "phrase"),
    [
        (1, "ru", "1 человек оценил ваш комментарий"),
        (2, "ru", "2 человека оценили ваш комментарий"),
        (5, "ru", "5 человек оценили ваш комментарий"),
        (21, "ru", "21 человек оценил ваш комментарий"),
        (1, "en", "1 person liked your comment"),
        (5, "en", "5 people liked your comment"),
    ],
)
def test_render_like_digest_uses_the_locales_plural_forms(
    renderer: TemplateRenderer, count: int, locale: str, phrase: str
) -> None:
    user = recipient(push_token="tok", locale=locale).model_copy(update={"digest_count": count})
    for channel in (Channel.PUSH, Channel.EMAIL):
        rendered = renderer.render(EventType.COMMENT_LIKED, channel, user, [content(title="Тьма")])
        assert phrase in rendered.text


def test_render_promo_dates_follow_the_readers_locale(renderer: TemplateRenderer) -> None:
    movies = [content(title="Тьма", season=None, episode=None)]
    rendered = renderer.render(
        EventType.NEW_RELEASES_PROMO, Channel.EMAIL, recipient(email="a@example.com", locale="ru"), movies
    )
    assert "«Тьма» (с 14 мар. 2025\u202fг.)" in rendered.text  # CLDR puts a narrow no-break space
