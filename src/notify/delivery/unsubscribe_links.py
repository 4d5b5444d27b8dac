"""One-click unsubscribe links: a signed token names the user and the event type.

The token is `payload.signature`, both base64url; the payload is compact JSON with the
user id, the event type and an expiry (epoch seconds); the signature is HMAC-SHA256 over
the payload with the service's secret. No login is needed, and nothing but this service
can make a token that verifies.
"""

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode

from notify.errors import NotifyError
from notify.workflows import workflow_key


class InvalidToken(NotifyError):
    """The token is forged, altered, malformed or expired (400)."""


class BadSignature(InvalidToken):
    """No key this environment accepts signed the token."""


@dataclass(frozen=True)
class Unsubscribe:
    user_id: uuid.UUID
    event_type: str  # the workflow's key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_payload(payload: bytes, *, secret: str, domain: bytes = b"") -> str:
    """`payload.signature`, both base64url: HMAC-SHA256 over `domain` and the payload (a domain keeps
    one kind of signed link from passing as another)."""
    signature = hmac.new(secret.encode(), domain + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def open_payload(token: str, *, secret: str | Sequence[str], domain: bytes = b"") -> bytes:
    """The payload of a token one of the keys signed (in `domain`); InvalidToken (BadSignature) else."""
    keys = [secret] if isinstance(secret, str) else list(secret)
    try:
        encoded_payload, encoded_signature = token.split(".")
        payload, signature = _unb64(encoded_payload), _unb64(encoded_signature)
    except (ValueError, binascii.Error) as error:
        raise InvalidToken("malformed token") from error
    expected = [hmac.new(key.encode(), domain + payload, hashlib.sha256).digest() for key in keys]
    if not any(hmac.compare_digest(signature, candidate) for candidate in expected):
        raise BadSignature("signature does not match")
    return payload


def sign_token(request: Unsubscribe, *, secret: str, now: datetime, valid_for: timedelta) -> str:
    payload = json.dumps(
        {"u": str(request.user_id), "t": str(request.event_type), "e": int((now + valid_for).timestamp())},
        separators=(",", ":"),
    ).encode()
    return sign_payload(payload, secret=secret)


def verify_token(token: str, *, secret: str | Sequence[str], now: datetime) -> Unsubscribe:
    """The token's request, if it was signed with `secret` (or one of the keys given: a rotated key's
    previous value signed links that are still out there)."""
    payload = open_payload(token, secret=secret)
    try:
        fields = json.loads(payload)
        request = Unsubscribe(user_id=uuid.UUID(fields["u"]), event_type=workflow_key(fields["t"]))
        expires = int(fields["e"])
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidToken("malformed token") from error
    if now.timestamp() > expires:
        raise InvalidToken("token expired")
    return request


def unsubscribe_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe?{urlencode({'token': token})}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SigningKeys(Protocol):
    """The links' key: one signs, and every key a link still out there may carry verifies."""

    def signing_key(self) -> str: ...

    def accepted_keys(self, *, fresh: bool = False) -> list[str]:
        """`fresh`: read again now, not from this environment's copy (which may predate a rotation)."""
        ...


def verify_link(token: str, *, keys: SigningKeys, now: datetime) -> Unsubscribe:
    """verify_token with the keys this environment accepts (with_fresh_keys)."""
    return with_fresh_keys(keys, lambda accepted: verify_token(token, secret=accepted, now=now))


def with_fresh_keys[T](keys: SigningKeys, verify: Callable[[list[str]], T]) -> T:
    """`verify` with the keys this environment accepts; a token no key of its copy signed is tried once
    more with the keys read afresh: another environment may have signed it with a key that is newer than
    this one's copy (a rotation on its way here)."""
    try:
        return verify(keys.accepted_keys())
    except BadSignature:
        return verify(keys.accepted_keys(fresh=True))


@dataclass(frozen=True)
class FixedKey:
    """One key that never rotates (the local stack's plain secret)."""

    secret: str

    def signing_key(self) -> str:
        return self.secret

    def accepted_keys(self, *, fresh: bool = False) -> list[str]:
        return [self.secret]


@dataclass(frozen=True)
class UnsubscribeLinks:
    """Makes the signed link an e-mail carries for its recipient and event type."""

    base_url: str
    keys: SigningKeys
    valid_for: timedelta
    clock: Callable[[], datetime] = field(default=_utcnow)

    def link_for(self, user_id: uuid.UUID, event_type: str) -> str:
        token = sign_token(
            Unsubscribe(user_id, event_type),
            secret=self.keys.signing_key(),
            now=self.clock(),
            valid_for=self.valid_for,
        )
        return unsubscribe_url(self.base_url, token)
