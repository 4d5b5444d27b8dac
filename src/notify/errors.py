"""Typed errors. Their type, never their text, decides HTTP codes and retries."""

from collections.abc import Sequence
from dataclasses import dataclass


class NotifyError(Exception):
    """Base of every error this package raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    loc: tuple[str | int, ...]
    msg: str


class InvalidInput(NotifyError):
    """The request is well-formed JSON but says something we cannot accept (422)."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems))
        self.problems = list(problems)


class NotFound(NotifyError):
    """The thing asked for does not exist (404)."""


class IdempotencyConflict(NotifyError):
    """The Idempotency-Key was used before with another body (409)."""


class StateConflict(NotifyError):
    """The thing exists but its state does not allow the change (409)."""


class Unauthenticated(NotifyError):
    """No API key, or one that is malformed, unknown or revoked (401)."""


class Forbidden(NotifyError):
    """A valid API key without the scope the route needs (403)."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"this key lacks the scope {scope}")
        self.scope = scope


class RateLimited(NotifyError):
    """The key used up its requests of the last 60 s (429); `retry_after_s` until one is free."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class DuplicateIdempotencyKey(NotifyError):
    """Storage saw the key inserted concurrently; the caller re-reads the first answer."""


class RetryableError(NotifyError):
    """A transient failure: the message goes back to its queue and is tried again later, after
    `retry_after_s` when the failure knows when trying again makes sense (else the backoff)."""

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RecipientsInFlight(RetryableError):
    """Another attempt still holds some of the message's recipients: the message must not be
    acknowledged before they are final, so it comes back when that attempt's claim ends."""


class ProviderTimeout(NotifyError):
    """The provider took the request but gave no answer (none in time, or the connection closed after
    the whole request was written): it may have been delivered.
    Never retried (that could send it twice); the recipient is recorded `unconfirmed`."""


class PermanentError(NotifyError):
    """A failure that retrying cannot fix: the recipient is marked failed with the reason."""

    reason = "rejected"


class Uncomposable(PermanentError):
    """The message cannot be composed for this recipient (a header would hold a line break, or a value
    the e-mail package refuses): it fails before the provider is called, and only that recipient."""

    reason = "uncomposable"


class AddressGone(PermanentError):
    """The provider takes no more messages for this address (a disabled push endpoint): the
    recipient fails with `reason`, and the address joins the suppression list."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class BrokerUnavailable(RetryableError):
    """The broker did not take (or confirm) a publish."""


class StorageUnavailable(RetryableError):
    """The database did not answer."""


class SchemaBehind(StorageUnavailable):
    """The database lacks a migration this release needs: the function refuses to run (requests get
    503, messages go back to their queue) until the migrations are applied."""


class TickIncomplete(NotifyError):
    """Some steps of the tick failed (each logged); the others ran. Raised at the end so that
    the invocation shows as failed."""

    def __init__(self, steps: Sequence[str]) -> None:
        super().__init__("tick steps failed: " + ", ".join(steps))
        self.steps = list(steps)
