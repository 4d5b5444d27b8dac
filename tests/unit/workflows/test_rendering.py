"""The service's frame around every e-mail: the footer appended to the text, the layout of the HTML."""

import pytest
from markupsafe import Markup

from notify.workflows import ServiceTemplates

URL = 'https://notify.example/unsubscribe?token=a&b="<x>'


@pytest.fixture(scope="module")
def service() -> ServiceTemplates:
    return ServiceTemplates()


@pytest.mark.parametrize(
    ("locale", "line"),
    [("en", "Unsubscribe from these e-mails: "), ("ru", "Отписаться от таких писем: ")],
)
def test_the_footer_is_the_unsubscribe_line_in_the_readers_locale(
    service: ServiceTemplates, locale: str, line: str
) -> None:
    assert service.email_footer(locale, URL) == f"\n--\n{line}{URL}\n"


def test_an_e_mail_without_an_unsubscribe_link_has_no_footer(service: ServiceTemplates) -> None:
    assert service.email_footer("en", None) == ""


def test_the_layout_escapes_every_value_but_the_body(service: ServiceTemplates) -> None:
    html = service.email_layout("ru", "<script>x</script> & co", Markup("<p>Hi</p>"), URL)
    assert html.startswith('<!doctype html>\n<html lang="ru">')
    assert "<title>&lt;script&gt;x&lt;/script&gt; &amp; co</title>" in html
    assert "\n<p>Hi</p>\n" in html
    assert (
        '<a href="https://notify.example/unsubscribe?token=a&amp;b=&#34;&lt;x&gt;">Отписаться</a></p>' in html
    )
    assert "Вы получили это письмо как зритель онлайн-кинотеатра." in html
    assert html.endswith("</body>\n</html>")


def test_the_layout_without_a_link_keeps_the_notice_alone(service: ServiceTemplates) -> None:
    html = service.email_layout("en", "Hello", Markup("<p>Hi</p>"), None)
    assert "You receive this as a viewer of our online cinema.\n</p>" in html
    assert "<a " not in html


def test_a_locale_the_frame_has_no_words_for_reads_english(service: ServiceTemplates) -> None:
    assert "Unsubscribe from these e-mails" in service.email_footer("de", URL)
