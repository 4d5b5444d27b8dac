"""Secrets from AWS Secrets Manager, through powertools' parameters utility: each read once per
execution environment and kept `max_age_s`, so a rotation reaches every environment within that.

A rotation's two stages are read apart (AWSCURRENT, AWSPREVIOUS): powertools caches by name, so each
stage has a provider of its own. The providers call through the shared client (adapters.aws), whose
calls the least-privilege check sees.
"""

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from notify.adapters.aws import aws_client
from notify.errors import RetryableError

_PREVIOUS = "AWSPREVIOUS"


class SecretsUnavailable(RetryableError):
    """Secrets Manager did not answer (or the secret is not there): 503, tried again later."""


class SecretValues(Protocol):
    def current(self, arn: str, *, fresh: bool = False) -> str: ...


class SecretsManagerSecrets:
    def __init__(
        self, region: str, max_age_s: int, client: Any = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._region = region
        self._max_age_s = max_age_s
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._providers: dict[str, SecretsProvider] = {}
        # When each secret was last found to have no previous value: that answer is kept as long as a
        # value would be, or every unsubscribe request would read Secrets Manager until the first rotation.
        self._no_previous: dict[str, float] = {}

    def _provider(self, stage: str) -> SecretsProvider:
        with self._lock:
            if stage not in self._providers:
                client = (
                    self._client if self._client is not None else aws_client("secretsmanager", self._region)
                )
                self._providers[stage] = SecretsProvider(boto3_client=client)
            return self._providers[stage]

    def current(self, arn: str, *, fresh: bool = False) -> str:
        """The secret's AWSCURRENT value; `fresh` reads it again whatever its age."""
        try:
            value = self._provider("current").get(arn, max_age=self._max_age_s, force_fetch=fresh)
        except GetParameterError as error:
            raise SecretsUnavailable(f"secretsmanager: {type(error.__cause__ or error).__name__}") from error
        return str(value)

    def previous(self, arn: str, *, fresh: bool = False) -> str | None:
        """The value before the last rotation (AWSPREVIOUS), None when there is none or it cannot be
        read: then only the current value counts."""
        with self._lock:
            found_none_at = self._no_previous.get(arn)
        if not fresh and found_none_at is not None and self._clock() - found_none_at < self._max_age_s:
            return None
        try:
            value = self._provider(_PREVIOUS).get(
                arn, max_age=self._max_age_s, force_fetch=fresh, VersionStage=_PREVIOUS
            )
        except GetParameterError:
            with self._lock:
                self._no_previous[arn] = self._clock()
            return None
        with self._lock:
            self._no_previous.pop(arn, None)
        return str(value)


class AtMostEvery:
    """Says yes at most once per `interval_s` of `clock` (the first time: yes)."""

    def __init__(self, interval_s: float, clock: Callable[[], float]) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._last = float("-inf")
        self._lock = threading.Lock()

    def now(self) -> bool:
        with self._lock:
            due = self._clock() - self._last >= self._interval_s
            if due:
                self._last = self._clock()
            return due


class RotatingKeys:
    """The unsubscribe links' key in Secrets Manager: new links are signed with the current value;
    a link signed with the previous one still verifies until it expires, so a rotation breaks none.
    A fresh read (a link signed by an environment that saw a rotation first) is made at most once per
    `fresh_every_s`: a stream of forged tokens costs Secrets Manager no more than that."""

    def __init__(
        self,
        secrets: SecretsManagerSecrets,
        arn: str,
        fresh_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secrets = secrets
        self._arn = arn
        self._fresh_reads = AtMostEvery(fresh_every_s, clock)

    def signing_key(self) -> str:
        return self._secrets.current(self._arn)

    def accepted_keys(self, *, fresh: bool = False) -> list[str]:
        fresh = fresh and self._fresh_reads.now()
        current = self._secrets.current(self._arn, fresh=fresh)
        previous = self._secrets.previous(self._arn, fresh=fresh)
        return [current, *([previous] if previous else [])]


class DatabaseCredentials:
    """The user and password of an RDS secret (JSON: username, password), for each new connection.

    When a connection fails (a rotated password is the case that matters: the kept one no longer
    authenticates), the next connection reads the secret afresh, at most once per `refresh_every_s`
    so that an outage does not turn into a flood of reads."""

    def __init__(
        self,
        secrets: SecretValues,
        arn: str,
        refresh_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secrets = secrets
        self._arn = arn
        self._fresh_reads = AtMostEvery(refresh_every_s, clock)
        self._stale = False
        self._lock = threading.Lock()

    def __call__(self) -> dict[str, str]:
        with self._lock:
            fresh = self._stale and self._fresh_reads.now()
            if fresh:
                self._stale = False
        document = json.loads(self._secrets.current(self._arn, fresh=fresh))
        return {"user": str(document["username"]), "password": str(document["password"])}

    def connection_failed(self) -> None:
        with self._lock:
            self._stale = True
