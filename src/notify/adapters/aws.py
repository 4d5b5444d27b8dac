"""Shared AWS plumbing: lazily built, cached boto3 clients, the record of the calls they make, and
provider-error classification."""

import json
import os
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from notify.adapters.provider_wire import request_written, track_writes
from notify.errors import NotifyError, PermanentError, ProviderTimeout, RetryableError

_RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalErrorException",
        "RequestTimeout",
        "RequestTimeoutException",
        "KMSThrottlingException",
    }
)


# ---- the record of the calls (the least-privilege check of the local stack, notify_dev.least_privilege)
# On only where NOTIFY_AWS_CALL_LOG names a directory, which the template allows in Environment=local
# alone. Each distinct call (function, service, operation, the resource it names) is appended once per
# process to `<directory>/<function>.jsonl`. Nothing of a recipient is written: of a call's parameters
# only those that name an AWS resource are kept; of the sender address, only its domain.

# The parameters by which an operation names the resource it acts on (the check maps them to ARNs).
RESOURCE_PARAMETERS = (
    "QueueUrl",
    "QueueName",
    "QueueOwnerAWSAccountId",
    "TopicArn",
    "TargetArn",
    "PlatformApplicationArn",
    "ConfigurationSetName",
    "SecretId",
)


REARM_EVERY_S = 5.0


class AwsCallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: str | None = None
        self._function = ""
        self._seen: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
        self._looked_at = float("-inf")
        self.clock = time.monotonic

    def record_to(self, directory: str | None, function: str | None) -> None:
        """Record into `directory` the calls of `function`; either empty: record nothing."""
        with self._lock:
            self._path, self._seen, self._looked_at = None, set(), float("-inf")
            if directory and function:
                try:
                    os.makedirs(directory, exist_ok=True)
                except OSError:
                    return  # not on this machine (a function in a container): nothing is recorded
                self._path = os.path.join(directory, f"{function}.jsonl")
                self._function = function

    def before_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        """botocore's before-parameter-build hook: runs on the caller's thread before each call."""
        path = self._path
        if path is None:
            return
        named = {key: str(params[key]) for key in RESOURCE_PARAMETERS if key in params}
        if ":endpoint/" in named.get("TargetArn", ""):
            # A push endpoint's id names a device: one stands for all (the role grants endpoint/APP/*).
            named["TargetArn"] = named["TargetArn"].rpartition("/")[0] + "/ENDPOINT-ID"
        if "Source" in params:
            named["SourceDomain"] = str(params["Source"]).rpartition("@")[2].rstrip(">").lower()
        if "PhoneNumber" in params:
            named["PhoneNumber"] = "(a phone number)"
        service, operation = model.service_model.service_name, model.name
        key = (service, operation, tuple(sorted(named.items())))
        now = self.clock()
        if key in self._seen and now - self._looked_at < REARM_EVERY_S:
            return  # the senders' path: one set look-up, no lock
        with self._lock:
            if now - self._looked_at >= REARM_EVERY_S:
                # `make up` empties the directory before each deploy: what was written before is gone,
                # so a process that outlived the deploy writes each of its calls again.
                self._looked_at = now
                if not os.path.exists(path):
                    self._seen.clear()
            if key in self._seen:
                return
            self._seen.add(key)
            call = {"service": service, "operation": operation, "resource": named}
            line = json.dumps({"function": self._function, "at": time.time(), **call}) + "\n"
            try:
                with open(path, "a", encoding="utf-8") as log:
                    log.write(line)
            except OSError:
                self._seen.discard(key)  # a record is never worth a failed call; tried again next time


AWS_CALLS = AwsCallLog()


_clients_lock = threading.Lock()


@cache
def _client(service: str, region: str, config: Config, *, track: bool = False) -> Any:
    client = boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]
    client.meta.events.register("before-parameter-build", AWS_CALLS.before_call)
    return track_writes(client) if track else client


def _shared_client(service: str, region: str, config: Config, *, track: bool = False) -> Any:
    # boto3 clients are safe to share across threads once built; building one is not.
    with _clients_lock:
        return _client(service, region, config, track=track)


def forget_clients() -> None:
    """Drop the cached clients (tests that change the endpoint or credentials)."""
    with _clients_lock:
        _client.cache_clear()


_INFRASTRUCTURE = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10)


def aws_client(service: str, region: str) -> Any:
    """One client per service and region per execution environment, for the service's own
    plumbing (queues): the SDK retries, a repeated call is harmless there. The endpoint comes
    from AWS_ENDPOINT_URL(_<SERVICE>) when set (LocalStack), as boto3 reads it."""
    return _shared_client(service, region, _INFRASTRUCTURE)


@dataclass(frozen=True)
class ProviderConnection:
    """How provider calls (SES, SNS) are made: no SDK retries, because a retried call after a
    lost answer sends the message twice; the delivery code decides what is tried again."""

    region: str
    read_timeout_s: float = 5.0
    connect_timeout_s: float = 3.0
    pool_size: int = 16

    def config(self) -> Config:
        return Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            max_pool_connections=self.pool_size,
        )


def provider_client(service: str, connection: ProviderConnection) -> Any:
    return _shared_client(service, connection.region, _provider_config(connection), track=True)


@cache
def _provider_config(connection: ProviderConnection) -> Config:
    return connection.config()


def classify_provider_error(error: Exception, action: str, *, idempotent: bool = False) -> NotifyError:
    """Map a boto3 failure to RetryableError or PermanentError. The text names no recipient."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
        if code in _RETRYABLE_CODES or status >= 500:
            return RetryableError(f"{action}: {code} (HTTP {status})")
        return PermanentError(f"{action}: {code} (HTTP {status})")
    if isinstance(error, ReadTimeoutError) and not idempotent:
        # The request went out and no answer came: the provider may have accepted it.
        return ProviderTimeout(f"{action}: {type(error).__name__}")
    if isinstance(error, ConnectionClosedError) and not idempotent and request_written():
        # The whole request went out, then the connection closed with no answer: the provider may
        # have accepted it (see provider_wire for how a write that failed is told apart).
        return ProviderTimeout(f"{action}: connection closed after the request was sent")
    # Anything else (no connection, connect timeout, a connection that closed before the request
    # was written in full) is taken as not delivered and tried again.
    return RetryableError(f"{action}: {type(error).__name__}")
