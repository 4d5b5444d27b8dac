"""Where the local stack is: LocalStack's URL and region, the endpoints file `make up` writes, the local
database and broker, and boto3 clients for LocalStack."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3

# devtools/ is installed editable (make venv): the checkout is two folders up from this file.
ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS_FILE = ROOT / ".local" / "endpoints.json"
LOCALSTACK_URL = f"http://127.0.0.1:{os.environ.get('LOCALSTACK_PORT', '4566')}"
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"  # LocalStack's account for the access key "test"
DATABASE_URL = os.environ.get("NOTIFY_LOCAL_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/notify")
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def aws(service: str, endpoint_url: str = LOCALSTACK_URL, region: str = REGION) -> Any:
    """A boto3 client for LocalStack, with its fake credentials (never the host's ~/.aws)."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - LocalStack's well-known fake credentials
    )


def load_endpoints(path: Path = ENDPOINTS_FILE) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make up` first")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def api_key(endpoints: dict[str, Any] | None = None) -> str | None:
    """The API key the local tools send: NOTIFY_API_KEY, else endpoints.json's "api_key" (the local
    admin key `make up` keeps working)."""
    if os.environ.get("NOTIFY_API_KEY"):
        return os.environ["NOTIFY_API_KEY"]
    if endpoints is None:
        endpoints = json.loads(ENDPOINTS_FILE.read_text()) if ENDPOINTS_FILE.exists() else {}
    key = endpoints.get("api_key")
    return str(key) if key else None


def api_headers(endpoints: dict[str, Any] | None = None) -> dict[str, str]:
    """`Authorization: Bearer <api_key()>`, or nothing when there is no key."""
    key = api_key(endpoints)
    return {"Authorization": f"Bearer {key}"} if key else {}
