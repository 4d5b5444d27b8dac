"""Access: API keys (issued once, stored hashed, scoped by route) and their rate limits.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

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
