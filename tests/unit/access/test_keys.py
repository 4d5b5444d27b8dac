"""API keys: issued once, stored as a hash, checked in constant time, scoped, revoked."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from notify.access.keys import RememberedKeys, admit, authenticate, authorize, issue_key, key_id_of, revoke
from notify.access.ports import ApiKeyRecord, Scope
from notify.errors import Forbidden, InvalidInput, NotFound, RateLimited, Unauthenticated
from tests.fakes import FakeApiKeys

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_issue_key_shows_the_secret_once_and_stores_only_its_hash() -> None:
    keys = FakeApiKeys()

    issued = issue_key("producer", ["events:write"], 600, now=NOW, keys=keys)

    prefix, key_id, secret = issued.key.split("_", 2)
    assert (prefix, key_id) == ("nk", issued.record.key_id)
    assert len(secret) >= 43  # 32 random bytes
    stored = keys.find_key(key_id)
    assert stored is not None
    assert secret not in repr(stored)
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (stored.scopes, stored.rate_per_minute) == (frozenset({"events:write"}), 600)
    assert key_id_of(issued.key) == key_id


def test_issue_key_refuses_unknown_or_no_scopes() -> None:
    with pytest.raises(InvalidInput, match="unknown scope 'events:delete'"):
        issue_key("x", ["events:write", "events:delete"], None, now=NOW, keys=FakeApiKeys())
    with pytest.raises(InvalidInput, match="at least one scope"):
        issue_key("x", [], None, now=NOW, keys=FakeApiKeys())


def test_authenticate_takes_the_bearer_key_and_records_its_use_once_a_minute() -> None:
    keys = FakeApiKeys()
    issued = issue_key("producer", ["events:write"], None, now=NOW, keys=keys)

    assert authenticate(f"Bearer {issued.key}", keys=keys, now=NOW).key_id == issued.record.key_id
    authenticate(f"bearer {issued.key}", keys=keys, now=NOW + timedelta(seconds=30))
    authenticate(f"Bearer {issued.key}", keys=keys, now=NOW + timedelta(seconds=61))

    assert keys.touches == 2
    assert keys.api_keys[issued.record.key_id].last_used_at == NOW + timedelta(seconds=61)


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (None, "send Authorization"),
        ("", "send Authorization"),
        ("Basic dXNlcjpwYXNz", "must be Bearer"),
        ("Bearer", "must be Bearer"),
        ("Bearer not-a-key", "is not an API key"),
        ("Bearer nk_0123456789ab_" + "A" * 43, "unknown API key"),
    ],
)
def test_authenticate_refuses_missing_malformed_and_unknown_keys(header: str | None, problem: str) -> None:
    keys = FakeApiKeys()
    issue_key("producer", ["events:write"], None, now=NOW, keys=keys)

    with pytest.raises(Unauthenticated, match=problem):
        authenticate(header, keys=keys, now=NOW)


def test_authenticate_refuses_a_right_id_with_a_wrong_secret_and_a_revoked_key() -> None:
    keys = FakeApiKeys()
    issued = issue_key("producer", ["events:write"], None, now=NOW, keys=keys)
    forged = issued.key[:-4] + ("AAAA" if not issued.key.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated, match="unknown API key"):
        authenticate(f"Bearer {forged}", keys=keys, now=NOW)

    revoke(issued.record.key_id, keys=keys, now=NOW)

    with pytest.raises(Unauthenticated, match="revoked"):
        authenticate(f"Bearer {issued.key}", keys=keys, now=NOW + timedelta(seconds=1))
    with pytest.raises(NotFound):
        revoke("0123456789ab", keys=keys, now=NOW)


def test_authorize_needs_the_route_scope_or_admin() -> None:
    keys = FakeApiKeys()
    reader = issue_key("r", ["events:read"], None, now=NOW, keys=keys).record
    admin = issue_key("a", ["admin"], None, now=NOW, keys=keys).record

    authorize(reader, Scope.EVENTS_READ)
    authorize(admin, Scope.DIRECTORY_WRITE)
    with pytest.raises(Forbidden) as refused:
        authorize(reader, Scope.EVENTS_WRITE)
    assert refused.value.scope == "events:write"


def test_admit_answers_no_more_than_the_limit_in_any_60_s_and_says_when_to_retry() -> None:
    keys = FakeApiKeys()
    record = issue_key("producer", ["events:write"], 3, now=NOW, keys=keys).record
    for second in (0, 10, 20):
        admit(record, limits=keys, now=NOW + timedelta(seconds=second))

    with pytest.raises(RateLimited) as limited:
        admit(record, limits=keys, now=NOW + timedelta(seconds=30))
    assert limited.value.retry_after_s == 30  # the first request leaves the window at 60 s
    with pytest.raises(RateLimited):
        admit(record, limits=keys, now=NOW + timedelta(seconds=59))
    admit(record, limits=keys, now=NOW + timedelta(seconds=61))  # one slot is free again


def test_admit_lets_a_key_without_a_limit_through() -> None:
    keys = FakeApiKeys()
    record = issue_key("local admin", ["admin"], None, now=NOW, keys=keys).record
    for _ in range(1000):
        admit(record, limits=keys, now=NOW)
    assert keys.key_hits == {}


class CountingKeys(FakeApiKeys):
    """FakeApiKeys that count the lookups that reach them (a round trip each, in PostgreSQL)."""

    lookups = 0

    def find_key(self, key_id: str) -> ApiKeyRecord | None:
        self.lookups += 1
        return super().find_key(key_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_remembered_keys_serve_a_warm_key_without_a_lookup_and_see_a_revocation_within_ttl() -> None:
    stored, clock = CountingKeys(), Clock()
    remembered = RememberedKeys(stored, ttl_s=50, clock=clock)
    issued = issue_key("producer", ["events:write"], None, now=NOW, keys=stored)
    bearer = f"Bearer {issued.key}"

    for _ in range(100):
        authenticate(bearer, keys=remembered, now=NOW)
    assert stored.lookups == 1
    assert stored.touches == 1  # at most one write of last use a minute

    stored.revoke_key(issued.record.key_id, NOW)  # revoked by another execution environment
    clock.now += 49
    authenticate(bearer, keys=remembered, now=NOW + timedelta(seconds=49))
    clock.now += 2
    with pytest.raises(Unauthenticated):
        authenticate(bearer, keys=remembered, now=NOW + timedelta(seconds=51))


def test_remembered_keys_do_not_remember_a_key_they_did_not_find() -> None:
    stored = CountingKeys()
    remembered = RememberedKeys(stored, clock=Clock())
    key = "nk_0123456789ab_" + "a" * 43

    assert remembered.find_key("0123456789ab") is None
    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {key}", keys=remembered, now=NOW)
    issued = issue_key("made just now", ["admin"], None, now=NOW, keys=remembered)

    assert authenticate(f"Bearer {issued.key}", keys=remembered, now=NOW).key_id == issued.record.key_id


def test_remembered_keys_forget_a_key_revoked_through_them_at_once() -> None:
    stored = CountingKeys()
    remembered = RememberedKeys(stored, clock=Clock())
    issued = issue_key("p", ["events:read"], None, now=NOW, keys=remembered)
    authenticate(f"Bearer {issued.key}", keys=remembered, now=NOW)

    revoke(issued.record.key_id, keys=remembered, now=NOW)

    with pytest.raises(Unauthenticated):
        authenticate(f"Bearer {issued.key}", keys=remembered, now=NOW)
