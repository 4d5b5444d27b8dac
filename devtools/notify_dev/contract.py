"""Every answer held against the OpenAPI document: is its status declared for the operation, its
Content-Type one the document names for that status (none for a 204), and its body the declared
schema? The schema check is schemathesis' own (response_schema_conformance's validator).

The integration tests' in-process client and the e2e tests' client check every answer they get, so
the suites' real responses, every route and status they reach, are the contract test."""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Mapping
from typing import Any

import requests
import schemathesis
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response

_NO_BODY = frozenset({204, 304})


class ContractBroken(AssertionError):
    """An answer the document does not describe."""


class Contract:
    """One document's operations, each looked up once (thread-safe)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = json.loads(json.dumps(document))
        self._schema = schemathesis.openapi.from_dict(self._document)
        self._lock = threading.Lock()

    def problems(
        self, method: str, path: str, status: int, headers: Mapping[str, str], body: bytes
    ) -> list[str]:
        """What in the answer the document does not describe ([] when it all is). A path no operation
        matches (an unknown route, a path variant) has no contract to keep: []."""
        with self._lock:
            try:
                operation = self._schema.find_operation_by_path(method.upper(), path.split("?")[0])
            except LookupError:
                return []
        if operation is None:
            return []
        where = f"{method.upper()} {operation.path} answered {status}"
        declared = operation.definition.raw.get("responses", {})
        answer = declared.get(str(status)) or declared.get(f"{str(status)[0]}XX") or declared.get("default")
        if answer is None:
            return [f"{where}: the status is not declared (declared: {', '.join(sorted(declared))})"]
        content = answer.get("content") or {}
        media_type = _header(headers, "content-type").split(";")[0].strip().lower()
        if status in _NO_BODY or not content:
            return [f"{where}: a body the document does not declare ({len(body)} bytes)"] if body else []
        if media_type not in {name.lower() for name in content}:
            return [f"{where}: Content-Type {media_type or '(none)'} is not one of {sorted(content)}"]
        if not media_type.endswith("json"):
            return []
        response = Response(
            status_code=status,
            headers={name.lower(): [value] for name, value in headers.items()},
            content=body,
            request=requests.Request(method.upper(), f"http://api.invalid{path}").prepare(),
            elapsed=0.0,
            verify=True,
        )
        try:
            operation.validate_response(response)
        except Failure as failure:
            return [f"{where}: the body is not the declared schema: {failure}"]
        except FailureGroup as group:  # several at once
            return [
                f"{where}: the body is not the declared schema: {failure}" for failure in group.exceptions
            ]
        return []

    def check(self, method: str, path: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
        found = self.problems(method, path, status, headers, body)
        if found:
            raise ContractBroken("; ".join(found))


def _header(headers: Mapping[str, str], wanted: str) -> str:
    return next((str(value) for name, value in headers.items() if name.lower() == wanted), "")


@functools.cache
def in_process_contract() -> Contract:
    """The document this checkout's API makes, for the clients that call it in-process."""
    from notify.entrypoints.http.api import openapi_document  # the API's module: imported when used

    return Contract(openapi_document())


def check_proxy_answer(method: str, path: str, answer: Mapping[str, Any]) -> None:
    """A Lambda proxy answer (statusCode, headers, body, isBase64Encoded) held against the document."""
    headers = proxy_headers(answer)
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
    in_process_contract().check(method, path, int(answer["statusCode"]), headers, raw)


def proxy_headers(answer: Mapping[str, Any]) -> dict[str, str]:
    """A Lambda proxy answer's headers, names in lower case, multi-value ones joined by commas."""
    headers = {str(name).lower(): str(value) for name, value in (answer.get("headers") or {}).items()}
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        headers[str(name).lower()] = ",".join(str(value) for value in values)
    return headers
