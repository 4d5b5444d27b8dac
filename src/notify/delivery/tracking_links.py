"""Engagement tracking in e-mails: each link rewritten to GET /t/{token}, which answers 302 to the link
and records a click, and a pixel at GET /t/{token}.gif, which records an open.

The token names the notification (and, for a click, the link) and is signed as unsubscribe links are,
in a domain of its own: only this service makes one that verifies, so the redirect goes only where an
e-mail of the service pointed. Unsubscribe links are never rewritten."""

import json
import re
import uuid
from dataclasses import dataclass
from html import escape, unescape

from notify.delivery.unsubscribe_links import (
    InvalidToken,
    SigningKeys,
    open_payload,
    sign_payload,
    with_fresh_keys,
)


class InvalidTrackingToken(InvalidToken):
    """A tracked link's token this service did not sign, or changed (400, naming the path's token)."""


TRACKING_DOMAIN = b"track:"
PIXEL_SUFFIX = ".gif"
# A 1x1 transparent GIF.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
_TEXT_LINK = re.compile(r"https?://[^\s<>\"']+")
_HTML_LINK = re.compile(r'href="(https?://[^"]+)"')
_TRAILING = ".,;:!?)"  # punctuation after a link in a text, not part of it


@dataclass(frozen=True)
class Tracked:
    """What a token names: the notification, and the link a click goes to (None: the open pixel)."""

    notification_id: uuid.UUID
    url: str | None = None


def sign_tracking(tracked: Tracked, *, secret: str) -> str:
    fields = {"n": str(tracked.notification_id)} | ({"u": tracked.url} if tracked.url else {})
    return sign_payload(
        json.dumps(fields, separators=(",", ":")).encode(), secret=secret, domain=TRACKING_DOMAIN
    )


def verify_tracking(token: str, *, keys: SigningKeys) -> Tracked:
    """What a token names, if this service signed it; InvalidToken else (forged, altered, malformed)."""
    try:
        payload = with_fresh_keys(
            keys, lambda accepted: open_payload(token, secret=accepted, domain=TRACKING_DOMAIN)
        )
        fields = json.loads(payload)
        url = fields.get("u")
        if url is not None and (not isinstance(url, str) or not _TEXT_LINK.fullmatch(url)):
            raise ValueError("not a link")
        return Tracked(uuid.UUID(fields["n"]), url)
    except InvalidToken as error:
        raise InvalidTrackingToken(str(error)) from error
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidTrackingToken("malformed token") from error


@dataclass(frozen=True)
class TrackingLinks:
    base_url: str
    keys: SigningKeys

    def _link(self, tracked: Tracked, suffix: str = "") -> str:
        return (
            f"{self.base_url.rstrip('/')}/t/{sign_tracking(tracked, secret=self.keys.signing_key())}{suffix}"
        )

    def rewrite(
        self,
        text: str,
        html: str | None,
        notification_id: uuid.UUID,
        *,
        clicks: bool,
        opens: bool,
        keep: str | None,
    ) -> tuple[str, str | None]:
        """The e-mail's text and HTML with each link but `keep` (the unsubscribe link) tracked, and the
        open pixel in the HTML, as `clicks` and `opens` say."""
        if clicks:

            def tracked_text(match: re.Match[str]) -> str:
                link = match.group(0)
                tail = ""
                while link and link[-1] in _TRAILING:
                    link, tail = link[:-1], link[-1] + tail
                return (link if link == keep else self._link(Tracked(notification_id, link))) + tail

            def tracked_html(match: re.Match[str]) -> str:
                link = unescape(match.group(1))
                if link == keep:
                    return match.group(0)
                return f'href="{escape(self._link(Tracked(notification_id, link)))}"'

            text = _TEXT_LINK.sub(tracked_text, text)
            html = _HTML_LINK.sub(tracked_html, html) if html is not None else None
        if opens and html is not None:
            source = escape(self._link(Tracked(notification_id), PIXEL_SUFFIX))
            pixel = f'<img src="{source}" width="1" height="1" alt="">'
            html = html.replace("</body>", f"{pixel}\n</body>", 1) if "</body>" in html else html + pixel
        return text, html
