"""The deployed stack reads its secrets from Secrets Manager (LocalStack's), as a deployed stage does:
the functions connect to the database with the credentials of notify/local/database, and sign
unsubscribe links with notify/local/unsubscribe. A rotation of the links' key reaches the senders
within SecretsCacheSeconds (10 s in samconfig's local configuration): new links carry the new key, and
links signed with the previous one (AWSPREVIOUS) are still accepted."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from notify.delivery.unsubscribe_links import InvalidToken, verify_token
from notify_dev.endpoints import aws
from notify_dev.local_secrets import LOCAL_SECRETS
from notify_dev.web import http
from tests.e2e.conftest import event, wait_email

pytestmark = pytest.mark.e2e
CACHE_S = 10  # samconfig.toml, local: SecretsCacheSeconds
UNSUBSCRIBE = LOCAL_SECRETS["UnsubscribeSecretArn"][0]


def emailed_token(api, user, movie) -> tuple[str, str]:
    api.request("POST", "/events", event("new_releases_promo", [user], movie))
    [mail] = wait_email(user)
    link = mail["Headers"]["List-Unsubscribe"].strip("<>")
    return link, parse_qs(urlsplit(link).query)["token"][0]


def one_click(link: str) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
    return http("POST", link, b"List-Unsubscribe=One-Click", headers)[0]


def test_a_rotated_unsubscribe_key_signs_new_links_and_the_previous_one_still_verifies(
    api, endpoints, make_users, movie
):
    manager = aws("secretsmanager")
    before_key = manager.get_secret_value(SecretId=UNSUBSCRIBE)["SecretString"]
    first, second, third = make_users(3, phone=None, push_token=None)
    old_link, old_token = emailed_token(api, first, movie)
    assert verify_token(old_token, secret=before_key, now=datetime.now(UTC))

    new_key = secrets.token_hex(32)
    manager.put_secret_value(SecretId=UNSUBSCRIBE, SecretString=new_key)
    time.sleep(CACHE_S + 1)  # every environment's copy of the old value has expired
    new_link, new_token = emailed_token(api, second, movie)

    assert verify_token(new_token, secret=new_key, now=datetime.now(UTC))
    with pytest.raises(InvalidToken):
        verify_token(new_token, secret=before_key, now=datetime.now(UTC))
    assert one_click(old_link) == 200  # signed before the rotation: AWSPREVIOUS
    assert one_click(new_link) == 200

    # A second rotation: the first key is neither current nor previous, so its links are refused.
    manager.put_secret_value(SecretId=UNSUBSCRIBE, SecretString=secrets.token_hex(32))
    time.sleep(CACHE_S + 1)
    _, third_token = emailed_token(api, third, movie)  # the senders and ingest have the newest key now
    assert one_click(old_link) == 400
    assert third_token != new_token
