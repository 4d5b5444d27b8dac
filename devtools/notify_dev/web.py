"""JSON over HTTP with the standard library: an HTTP error is an answer, not an exception."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, Any]:
    """One JSON request; answers (status, decoded body or text). HTTP errors are answers, not raises."""
    status, _, decoded = http_answer(method, url, body, headers, timeout)
    return status, decoded


def http_answer(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], Any]:
    """As `http`, with the answer's headers (names in lower case)."""
    status, named, raw = http_raw(method, url, body, headers, timeout)
    return status, named, decoded(raw)


def decoded(raw: bytes) -> Any:
    """A body as JSON when it is JSON, else as text (None when empty)."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text


def http_raw(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> tuple[int, dict[str, str], bytes]:
    """As `http_answer`, the body as the bytes that came."""
    data = None
    all_headers = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1 only
            status, answer_headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, error.headers, error.read()
    return status, {name.lower(): value for name, value in answer_headers.items()}, raw
