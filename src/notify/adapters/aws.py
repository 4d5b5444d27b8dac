"""Shared AWS plumbing: lazily built, cached boto3 clients and provider-error classification."""

import threading
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


_clients_lock = threading.Lock()


@cache
def _client(service: str, region: str, config: Config, *, track: bool = False) -> Any:
    client = boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]
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
