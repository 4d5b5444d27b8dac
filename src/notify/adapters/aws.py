"""Shared AWS plumbing: lazily built, cached boto3 clients and provider-error classification."""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from notify.errors import NotifyError, PermanentError, RetryableError

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


@cache
def aws_client(service: str, region: str) -> Any:
    """One client per service and region per execution environment; the endpoint comes from
    AWS_ENDPOINT_URL(_<SERVICE>) when set (LocalStack), as boto3 reads it."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=region,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10),
    )


def classify_provider_error(error: Exception, action: str) -> NotifyError:
    """Map a boto3 failure to RetryableError or PermanentError. The text names no recipient."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
        if code in _RETRYABLE_CODES or status >= 500:
            return RetryableError(f"{action}: {code} (HTTP {status})")
        return PermanentError(f"{action}: {code} (HTTP {status})")
    if isinstance(error, BotoCoreError):
        return RetryableError(f"{action}: {type(error).__name__}")
    return RetryableError(f"{action}: {type(error).__name__}")
