"""API keys: issued once in clear, stored as a hash, checked in constant time, scoped by route.

A key reads `nk_<id>_<secret>`: the id names it in logs and lists without giving it away, the secret
is 32 random bytes (URL-safe base64). Only SHA-256 of the secret is stored: a secret that random
needs no slow hash, and a leaked table gives no key.
"""

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from notify.access.ports import TOUCH_EVERY, ApiKeyRecord, ApiKeys, RateLimits, Scope
from notify.errors import FieldProblem, Forbidden, InvalidInput, NotFound, RateLimited, Unauthenticated

KEY_PREFIX = "nk"
KEY_ID_PATTERN = "^[0-9a-f]{12}$"
_KEY = re.compile(r"nk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `key` is shown this once and never again."""

    record: ApiKeyRecord
    key: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_from(names: Iterable[str]) -> frozenset[str]:
    wanted = list(names)
    known = {str(scope) for scope in Scope}
    unknown = [
        FieldProblem(("body", "scopes", index), f"unknown scope {name!r}; one of {sorted(known)}")
        for index, name in enumerate(wanted)
        if name not in known
    ]
    if unknown or not wanted:
        raise InvalidInput(unknown or [FieldProblem(("body", "scopes"), "needs at least one scope")])
    return frozenset(wanted)


def issue_key(
    name: str,
    scopes: Iterable[str],
    rate_per_minute: int | None,
    *,
    now: datetime,
    keys: ApiKeys,
    random_hex: Callable[[int], str] = secrets.token_hex,
    random_secret: Callable[[int], str] = secrets.token_urlsafe,
) -> IssuedKey:
    key_id, secret = random_hex(6), random_secret(32)
    record = ApiKeyRecord(
        key_id=key_id,
        name=name,
        scopes=scopes_from(scopes),
        rate_per_minute=rate_per_minute,
        created_at=now,
        secret_hash=_hash(secret),
    )
    keys.add_key(record)
    return IssuedKey(record, f"{KEY_PREFIX}_{key_id}_{secret}")


def key_id_of(presented: str) -> str | None:
    """The id a presented key claims, if it has a key's shape (for logs: never the key itself)."""
    match = _KEY.fullmatch(presented)
    return match.group(1) if match else None


def authenticate(presented: str | None, *, keys: ApiKeys, now: datetime) -> ApiKeyRecord:
    """The key behind an `Authorization: Bearer <key>` value, or Unauthenticated."""
    if not presented:
        raise Unauthenticated("send Authorization: Bearer <API key>")
    scheme, _, token = presented.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("must be Bearer <API key>")
    match = _KEY.fullmatch(token.strip())
    if match is None:
        raise Unauthenticated("is not an API key (nk_<id>_<secret>)")
    key_id, secret = match.groups()
    record = keys.find_key(key_id)
    # compared whether or not the id exists, so that timing does not tell which ids do
    expected = record.secret_hash if record is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or record is None:
        raise Unauthenticated("unknown API key")
    if record.revoked_at is not None and record.revoked_at <= now:
        raise Unauthenticated("this API key was revoked")
    keys.touch_key(key_id, now)
    return record


def authorize(record: ApiKeyRecord, scope: Scope) -> None:
    if Scope.ADMIN not in record.scopes and scope not in record.scopes:
        raise Forbidden(str(scope))


RATE_WINDOW = timedelta(seconds=60)


def admit(record: ApiKeyRecord, *, limits: RateLimits, now: datetime, cost: int = 1) -> None:
    """Count the request against the key's limit as `cost` uses (a batch: its events): no more than
    `rate_per_minute` in any 60 s, no burst beyond it. RateLimited with the seconds until that many
    are free; InvalidInput when the request alone is more than the limit (it would never pass)."""
    if record.rate_per_minute is None:
        return
    if cost > record.rate_per_minute:
        limit = f"this key may send {record.rate_per_minute} a minute: send smaller batches"
        raise InvalidInput([FieldProblem(("body", "events"), f"holds {cost} events, but {limit}")])
    free_at = limits.take(record.key_id, record.rate_per_minute, now, RATE_WINDOW, cost)
    if free_at is not None:
        raise RateLimited(max(1, math.ceil((free_at - now).total_seconds())))


def revoke(key_id: str, *, keys: ApiKeys, now: datetime) -> None:
    if not keys.revoke_key(key_id, now):
        raise NotFound(f"no API key {key_id}")


class RememberedKeys:
    """ApiKeys that remember, per execution environment, the keys they found (for `ttl_s`) and the
    uses they recorded (for a minute), so that a warm request costs no round trip for its key.

    A revocation elsewhere is seen within `ttl_s`. What was not found is not remembered: a key made a
    moment ago works at once.
    """

    def __init__(
        self,
        keys: ApiKeys,
        *,
        ttl_s: float = 50.0,
        max_entries: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._found: dict[str, tuple[float, ApiKeyRecord]] = {}
        self._touched: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def add_key(self, record: ApiKeyRecord) -> None:
        self._keys.add_key(record)

    def find_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._lock:
            remembered = self._found.get(key_id)
        if remembered is not None and self._clock() - remembered[0] < self._ttl_s:
            return remembered[1]
        record = self._keys.find_key(key_id)
        with self._lock:
            if len(self._found) >= self._max_entries:
                self._found.clear()
            if record is None:
                self._found.pop(key_id, None)
            else:
                self._found[key_id] = (self._clock(), record)
        return record

    def list_keys(self) -> list[ApiKeyRecord]:
        return self._keys.list_keys()

    def revoke_key(self, key_id: str, now: datetime) -> bool:
        with self._lock:
            self._found.pop(key_id, None)
        return self._keys.revoke_key(key_id, now)

    def touch_key(self, key_id: str, now: datetime) -> None:
        with self._lock:
            last = self._touched.get(key_id)
            if last is not None and now - last < TOUCH_EVERY:
                return
            if len(self._touched) >= self._max_entries:
                self._touched.clear()
            self._touched[key_id] = now
        self._keys.touch_key(key_id, now)
