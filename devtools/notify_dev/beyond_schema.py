"""Requests beyond what the OpenAPI document describes, and the rule each answer must keep.

schemathesis sends only the documented paths and methods, with well-formed headers. An attacker sends
the rest: every route's path variants (notify_dev.path_variants) without a key and with a key of
another scope, methods a route does not allow, oversized headers and control characters in headers.
Written byte for byte (notify_dev.raw_http), so nothing on the client's side cleans them up.

The rule: no answer is a 5xx, and a request that does not carry the key its route needs is never
answered by a handler: only a refusal (400 from the HTTP server or the request guard, 401/403 from the
access check, 403 "Missing Authentication Token" or 404/405 from API Gateway or the router, 413/414/431
for a size) may come back.

`python -m notify_dev.beyond_schema` runs every case against the deployed API (`make fuzz` does, after
schemathesis) and prints `beyond-schema: N cases, F failures` last.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from notify.entrypoints.http.access import ROUTE_SCOPES
from notify.entrypoints.http.router import NO_ROUTE
from notify_dev.endpoints import api_key, load_endpoints
from notify_dev.path_variants import concrete, path_variants
from notify_dev.raw_http import raw_request
from notify_dev.web import http

REFUSALS = {400, 401, 403, 404, 405, 413, 414, 431}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND")
BODY_METHODS = {"POST", "PUT", "PATCH"}
# A header value no client library would send; each is tried in Authorization and in a plain header.
HOSTILE_HEADER_VALUES = {
    "nul": "Bearer nk_\x00x",
    "control_characters": "Bearer nk_\x01\x02\x7f\x1b[31m",
    "bare_carriage_return": "Bearer nk_x\rX-Injected: 1",
    "c1_and_separators": "Bearer \u0085\u2028\u2029",
    "non_utf8_bytes": "Bearer \udcff\udcfe",
    "nul_escape_text": "Bearer nk_%00",
    "oversized_8k": "Bearer " + "k" * 8_192,
    "oversized_64k": "Bearer " + "k" * 65_536,
}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    # Whether the request lacks what its route needs: only a refusal may answer it.
    unauthorised: bool = True


def _protected() -> list[tuple[str, str, str]]:
    return sorted((method, path, str(scope)) for (method, path), scope in ROUTE_SCOPES.items() if scope)


def _json_headers(key: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


def _body(method: str) -> bytes | None:
    return b'{"name": "x", "scopes": ["admin"]}' if method in BODY_METHODS else None


def path_variant_cases(key: str | None, key_scopes: Iterable[str] = ()) -> list[Case]:
    """Every protected route × its path variants, with `key` (None: without one). A route whose scope
    the key has is left out: there the request is authorised."""
    scopes = set(key_scopes)
    return [
        Case(f"variant {method} {variant!r}", method, variant, _json_headers(key), _body(method))
        for method, path, scope in _protected()
        if key is None or not (scopes & {scope, "admin"})
        for variant in path_variants(concrete(path))
    ]


def method_cases(key: str) -> list[Case]:
    """Every path of the table × the methods it does not allow, with an admin key: no handler answers."""
    allowed: dict[str, set[str]] = {}
    for method, path in ROUTE_SCOPES:
        allowed.setdefault(path, set()).add(method)
    return [
        Case(f"method {method} {path}", method, concrete(path), _json_headers(key), _body(method))
        for path, methods in sorted(allowed.items())
        if path != "/docs"  # served by `make api` and in process only: API Gateway has no route for it
        for method in METHODS
        if method not in methods and not _served_by_a_template(method, concrete(path))
    ]


def _served_by_a_template(method: str, target: str) -> bool:
    """Whether a route with parameters takes `method` on `target` (`GET /events/batch` is `GET
    /events/{event_id}`): a handler answers it, rightly."""
    segments = target.strip("/").split("/")
    return any(
        route_method == method
        and len(template := path.strip("/").split("/")) == len(segments)
        and all(part == seg or part.startswith("{") for part, seg in zip(template, segments, strict=True))
        for route_method, path in ROUTE_SCOPES
    )


def header_cases(key: str) -> list[Case]:
    """Hostile header values in Authorization (refused, never let through) and, with `key`, in a
    header a handler reads (Idempotency-Key: any 4xx, no 5xx); and many headers at once."""
    cases = []
    for name, value in HOSTILE_HEADER_VALUES.items():
        cases.append(Case(f"header Authorization {name}", "GET", "/keys", {"Authorization": value}))
        headers = {**_json_headers(key), "Idempotency-Key": value.removeprefix("Bearer ")}
        cases.append(Case(f"header Idempotency-Key {name}", "POST", "/events", headers, _event(), False))
    many = {f"X-Filler-{n}": "x" * 64 for n in range(200)}
    cases.append(Case("header 200 headers", "GET", "/keys", many))
    return cases


def _event() -> bytes:
    """A valid POST /events body (to one unknown user: accepted, sends nothing), so that a header is
    what is judged, not the body."""
    return json.dumps(
        {
            "event_type": "new_episode",
            "created_dt": "2026-01-01T10:00:00+00:00",
            "payload": {"user": [str(uuid.uuid4())], "content": []},
        }
    ).encode()


def _refusal(status: int, body: Any) -> bool:
    """An answer no handler gives: the access check's, the router's no-such-route, API Gateway's own,
    or the HTTP server's. A handler's 404 ("no event …") or 403 is not one of them."""
    errors = body.get("errors") if isinstance(body, dict) else None
    loc = (
        errors[0].get("loc") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None
    )
    if status in {401, 403} and loc == ["header", "Authorization"]:
        return True
    if status == 404 and errors is not None:
        return bool(errors == [{"loc": ["path"], "msg": NO_ROUTE}])
    if status == 403:
        return bool(body == {"message": "Missing Authentication Token"})
    return status in {400, 413} or (status in REFUSALS and errors is None)


def judge(case: Case, status: int, body: Any) -> str | None:
    """What is wrong with the answer, or None."""
    if status >= 500:
        return f"{status}: a server error"
    # An answer to HEAD has no body to tell by: its status alone must be a refusal's.
    refused = status in REFUSALS if case.method == "HEAD" else _refusal(status, body)
    if case.unauthorised and not refused:
        return f"{status}: answered past the access check ({str(body)[:120]!r})"
    return None


def run(base_url: str, cases: Sequence[Case], threads: int = 8) -> list[tuple[Case, str]]:
    """Send every case; the ones whose answer breaks the rule, with what is wrong."""

    def one(case: Case) -> tuple[Case, str | None]:
        try:
            status, _, body = raw_request(base_url, case.method, case.target, case.headers, case.body)
        except (OSError, ValueError) as error:  # http.client's parser raises ValueError subclasses
            return case, f"no answer: {type(error).__name__}: {error}"
        return case, judge(case, status, body)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [(case, problem) for case, problem in pool.map(one, cases) if problem]


def main(argv: Sequence[str] = ()) -> int:
    endpoints = load_endpoints()
    base_url, admin = endpoints["api_url"], api_key(endpoints)
    if not admin:
        print("beyond-schema: no API key in .local/endpoints.json: run `make up`", file=sys.stderr)
        return 2
    auth = {"Authorization": f"Bearer {admin}"}
    status, narrow = http(
        "POST", f"{base_url}/keys", {"name": f"fuzz {uuid.uuid4()}", "scopes": ["events:read"]}, auth
    )
    if status != 201:
        print(f"beyond-schema: could not make a narrow key: {status} {narrow}", file=sys.stderr)
        return 2
    try:
        cases = [
            *path_variant_cases(None),
            *path_variant_cases(narrow["key"], narrow["scopes"]),
            *method_cases(admin),
            *header_cases(admin),
        ]
        failures = run(base_url, cases)
    finally:
        http("DELETE", f"{base_url}/keys/{narrow['id']}", None, auth)
    for case, problem in failures[:60]:
        print(f"  {case.name}: {problem}")
    print(f"beyond-schema: {len(cases)} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
