"""Signed one-click unsubscribe tokens."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notify.channels import EventType
from notify.delivery.unsubscribe_links import (
    InvalidToken,
    Unsubscribe,
    sign_token,
    unsubscribe_url,
    verify_token,
)

SECRET = "s3cret-for-tests"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REQUEST = Unsubscribe(
    user_id=uuid.UUID("5c1e8a0e-7a54-4b43-a0b8-0b3a4c5ad0f1"), event_type=EventType.NEW_RELEASES_PROMO
)


def token() -> str:
    return sign_token(REQUEST, secret=SECRET, now=NOW, valid_for=timedelta(days=90))


def test_verify_token_returns_what_was_signed() -> None:
    assert verify_token(token(), secret=SECRET, now=NOW + timedelta(days=89)) == REQUEST


def test_verify_token_refuses_another_secret() -> None:
    with pytest.raises(InvalidToken, match="signature"):
        verify_token(token(), secret="other", now=NOW)


def test_verify_token_refuses_an_altered_payload() -> None:
    other = sign_token(
        Unsubscribe(uuid.uuid4(), EventType.NEW_RELEASES_PROMO),
        secret=SECRET,
        now=NOW,
        valid_for=timedelta(1),
    )
    forged = other.split(".")[0] + "." + token().split(".")[1]
    with pytest.raises(InvalidToken, match="signature"):
        verify_token(forged, secret=SECRET, now=NOW)


def test_verify_token_refuses_an_expired_token() -> None:
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(token(), secret=SECRET, now=NOW + timedelta(days=91))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "!!!.???", token() + "x"])
def test_verify_token_refuses_garbage(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(garbage, secret=SECRET, now=NOW)


def test_unsubscribe_url_puts_the_token_in_the_query() -> None:
    url = unsubscribe_url("https://notify.example/v1/", "a.b")
    assert url == "https://notify.example/v1/unsubscribe?token=a.b"
