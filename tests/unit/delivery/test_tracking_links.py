"""Tracked links and the open pixel: signed tokens (a forged or altered one is refused), and the
rewriting of an e-mail's links (never its unsubscribe link)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notify.delivery import FixedKey, InvalidTrackingToken, TrackingLinks
from notify.delivery.tracking_links import TRACKING_DOMAIN, Tracked, sign_tracking, verify_tracking
from notify.delivery.unsubscribe_links import Unsubscribe, sign_payload, sign_token

SECRET = "tracking-tests-secret-0123456789"
KEYS = FixedKey(SECRET)
NOTIFICATION = uuid.UUID("5c1e8a0e-7a54-4b43-a0b8-0b3a4c5ad0f1")
BASE = "https://api.example/v1"
LINKS = TrackingLinks(BASE, KEYS)
UNSUBSCRIBE = "https://api.example/v1/unsubscribe?token=abc&x=1"


def test_a_token_names_the_notification_and_the_link() -> None:
    click = sign_tracking(Tracked(NOTIFICATION, "https://cinema.example/watch?id=7&t=1"), secret=SECRET)
    pixel = sign_tracking(Tracked(NOTIFICATION), secret=SECRET)

    assert verify_tracking(click, keys=KEYS) == Tracked(NOTIFICATION, "https://cinema.example/watch?id=7&t=1")
    assert verify_tracking(pixel, keys=KEYS) == Tracked(NOTIFICATION, None)


@pytest.mark.parametrize(
    "token",
    [
        sign_tracking(Tracked(NOTIFICATION, "https://cinema.example/"), secret="another-secret-0123456789"),
        sign_tracking(Tracked(NOTIFICATION, "https://cinema.example/"), secret=SECRET)[:-2] + "AA",
        sign_tracking(Tracked(NOTIFICATION, "https://cinema.example/"), secret=SECRET).replace(".", "", 1),
        # a link to anywhere but the web, signed as the service signs: still refused
        sign_payload(
            b'{"n":"5c1e8a0e-7a54-4b43-a0b8-0b3a4c5ad0f1","u":"javascript:alert(1)"}',
            secret=SECRET,
            domain=TRACKING_DOMAIN,
        ),
        # an unsubscribe link's token is no tracking token (another domain)
        sign_token(
            Unsubscribe(NOTIFICATION, "new_episode"),
            secret=SECRET,
            now=datetime.now(UTC),
            valid_for=timedelta(days=1),
        ),
        "",
        "not.a.token",
        "\x00.\x00",
    ],
)
def test_a_forged_altered_or_foreign_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidTrackingToken):
        verify_tracking(token, keys=KEYS)


def test_links_are_tracked_but_the_unsubscribe_link_and_the_pixel_goes_in_the_html() -> None:
    text = "Watch https://cinema.example/w?id=1. More at https://cinema.example/more!"
    text += f"\n--\nUnsubscribe: {UNSUBSCRIBE}"
    html = (
        '<html><body><p><a href="https://cinema.example/w?id=1&amp;t=2">Watch</a></p>'
        f'<a href="{UNSUBSCRIBE.replace("&", "&amp;")}">Unsubscribe</a></body></html>'
    )

    tracked_text, tracked_html = LINKS.rewrite(
        text, html, NOTIFICATION, clicks=True, opens=True, keep=UNSUBSCRIBE
    )

    assert tracked_html is not None
    assert UNSUBSCRIBE in tracked_text
    assert "https://cinema.example" not in tracked_text
    assert tracked_text.count(f"{BASE}/t/") == 2
    assert (
        tracked_text.split("https://api.example/v1/t/")[1].split(" ")[0].endswith(".")
    )  # the full stop stays out
    clicked = [part.split('"')[0] for part in tracked_html.split('href="')[1:]]
    assert clicked[1] == UNSUBSCRIBE.replace("&", "&amp;")
    token = clicked[0].removeprefix(f"{BASE}/t/")
    assert verify_tracking(token, keys=KEYS) == Tracked(NOTIFICATION, "https://cinema.example/w?id=1&t=2")
    pixel = tracked_html.split('<img src="')[1].split('"')[0]
    assert pixel.endswith(".gif")
    assert verify_tracking(pixel.removeprefix(f"{BASE}/t/").removesuffix(".gif"), keys=KEYS) == Tracked(
        NOTIFICATION
    )
    assert tracked_html.index("<img") < tracked_html.index("</body>")


def test_only_what_the_workflow_tracks_is_rewritten() -> None:
    text, html = "See https://cinema.example/", '<body><a href="https://cinema.example/">x</a></body>'

    opens_only = LINKS.rewrite(text, html, NOTIFICATION, clicks=False, opens=True, keep=None)
    clicks_only = LINKS.rewrite(text, html, NOTIFICATION, clicks=True, opens=False, keep=None)

    assert opens_only[0] == text
    assert 'href="https://cinema.example/"' in str(opens_only[1])
    assert "<img" in str(opens_only[1])
    assert "<img" not in str(clicks_only[1])
    assert "https://cinema.example" not in clicks_only[0]
