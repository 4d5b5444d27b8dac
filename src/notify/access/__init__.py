"""Access: API keys (issued once, stored hashed, scoped by route) and their rate limits.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from typing import TYPE_CHECKING

from notify import lazy_exports

if TYPE_CHECKING:
    from notify.access.keys import (
        KEY_ID_PATTERN,
        RememberedKeys,
        admit,
        authenticate,
        authorize,
        issue_key,
        key_id_of,
        revoke,
    )
    from notify.access.models import IssuedKeyView, KeyList, KeyRequest, KeyView
    from notify.access.ports import TOUCH_EVERY, ApiKeyRecord, ApiKeys, RateLimits, Scope

# Each public name's module, loaded on first use: a model or a port taken from this package (by an
# adapter, the Migrate function) does not load all of its logic and the libraries that logic needs.
_HOMES = {
    "ApiKeyRecord": "notify.access.ports",
    "ApiKeys": "notify.access.ports",
    "IssuedKeyView": "notify.access.models",
    "KEY_ID_PATTERN": "notify.access.keys",
    "KeyList": "notify.access.models",
    "KeyRequest": "notify.access.models",
    "KeyView": "notify.access.models",
    "RateLimits": "notify.access.ports",
    "RememberedKeys": "notify.access.keys",
    "Scope": "notify.access.ports",
    "TOUCH_EVERY": "notify.access.ports",
    "admit": "notify.access.keys",
    "authenticate": "notify.access.keys",
    "authorize": "notify.access.keys",
    "issue_key": "notify.access.keys",
    "key_id_of": "notify.access.keys",
    "revoke": "notify.access.keys",
}

__all__ = [
    "KEY_ID_PATTERN",
    "TOUCH_EVERY",
    "ApiKeyRecord",
    "ApiKeys",
    "IssuedKeyView",
    "KeyList",
    "KeyRequest",
    "KeyView",
    "RateLimits",
    "RememberedKeys",
    "Scope",
    "admit",
    "authenticate",
    "authorize",
    "issue_key",
    "key_id_of",
    "revoke",
]


__getattr__ = lazy_exports(__name__, _HOMES)
