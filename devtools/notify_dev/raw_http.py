"""One HTTP/1.1 request written byte for byte: the path, the headers and the method exactly as given.

urllib and http.client clean up what a hostile client would not: they resolve nothing, but refuse a
control character in a path or a header, and a proxy or a client library may collapse slashes. The
access tests and `make fuzz` need the request as an attacker sends it, so this writes it to the socket
itself and reads the answer with http.client's parser. Loopback only: it is a test client.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def raw_request(
    base_url: str,
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], Any]:
    """(status, headers with lower-case names, the body decoded as JSON where it is JSON) of one request
    for `target` (appended to the base URL's path as it is: no quoting, no normalising)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "", parts.port or 80
    if host not in LOOPBACK:
        raise ValueError(f"raw_request sends to loopback addresses only, not {host!r}")
    lines = [f"{method} {parts.path}{target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(head + (body or b""))
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        status = response.status
    text = raw.decode("utf-8", "replace")
    try:
        return status, answer_headers, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, answer_headers, text
