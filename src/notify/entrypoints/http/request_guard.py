"""What the router cannot take safely, answered before it sees the request.

API Gateway hands the function any bytes a client sends. The router and the database each have inputs
they refuse with an exception rather than an answer: a body that is not UTF-8, a multipart body without
a boundary, a NUL character (PostgreSQL text cannot hold one), an unpaired surrogate. Each gets a 4xx
here that names the field and the problem, and nothing behind the API is touched.
"""

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from notify.events import MAX_BATCH_BYTES, MAX_BATCH_EVENTS
from notify.text import storable_problem, strings_in

# Lambda takes at most 6 MB of request (API Gateway 10 MB); a body near that is refused whole.
MAX_BODY_BYTES = 6_000_000
# Routes that take less: a batch of events is at most 1 MiB (which also bounds its events × users).
BODY_LIMITS = {("POST", "/events/batch"): MAX_BATCH_BYTES}
# Routes whose body holds items judged one by one: the strings inside an item are left to the handler,
# which refuses that item alone (a batch's events).
ITEM_LISTS = {("POST", "/events/batch"): "events"}
JSON_TYPES = ("application/json",)
FORM_TYPE = "application/x-www-form-urlencoded"
# Routes that take a form body as well as JSON: RFC 8058 one-click unsubscribes post a form.
FORM_ROUTES = {("POST", "/unsubscribe")}
BODY_METHODS = {"POST", "PUT", "PATCH"}


@dataclass(frozen=True)
class Rejection:
    status: HTTPStatus
    loc: tuple[str | int, ...]
    msg: str
    headers: Mapping[str, str] = field(default_factory=dict)


def rejection_body(rejection: Rejection) -> str:
    """The JSON every refusal answers with: the field and the problem."""
    return json.dumps({"errors": [{"loc": list(rejection.loc), "msg": rejection.msg}]}, ensure_ascii=False)


def screen_request(event: Mapping[str, Any]) -> Rejection | None:
    """The first reason the request cannot go to the router, or None when it can."""
    for check in (_screen_headers, _screen_parameters, _screen_body):
        rejection = check(event)
        if rejection is not None:
            return rejection
    return None


def _screen_headers(event: Mapping[str, Any]) -> Rejection | None:
    # Both shapes: powertools reads multiValueHeaders first, the access check headers.
    single = [(name, value) for name, value in (event.get("headers") or {}).items()]
    multi = [
        (name, value)
        for name, values in (event.get("multiValueHeaders") or {}).items()
        for value in values or []
    ]
    for name, value in single + multi:
        problem = storable_problem(str(name)) or storable_problem(str(value))
        if problem:
            return Rejection(HTTPStatus.BAD_REQUEST, ("header", str(name)), problem)
    return None


def _screen_parameters(event: Mapping[str, Any]) -> Rejection | None:
    for kind, key in (("query", "multiValueQueryStringParameters"), ("path", "pathParameters")):
        for name, values in (event.get(key) or {}).items():
            for value in values if isinstance(values, list) else [values]:
                problem = storable_problem(str(name)) or storable_problem(str(value))
                if problem:
                    return Rejection(HTTPStatus.UNPROCESSABLE_ENTITY, (kind, str(name)), problem)
    for name, value in (event.get("queryStringParameters") or {}).items():
        problem = storable_problem(str(name)) or storable_problem(str(value))
        if problem:
            return Rejection(HTTPStatus.UNPROCESSABLE_ENTITY, ("query", str(name)), problem)
    return None


def _body_bytes(event: Mapping[str, Any]) -> bytes | None:
    """The body as sent (decoded from base64 when API Gateway encoded it); None when it is not base64."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(str(raw), validate=True)
        except (binascii.Error, ValueError):
            return None
    return str(raw).encode("utf-8", "surrogatepass")


def events_in_batch(event: Mapping[str, Any]) -> int:
    """The events a batch request carries, as its key's rate limit counts them: at least 1; a batch the
    route refuses whole (more than MAX_BATCH_EVENTS, or a body it cannot read) counts as one request."""
    try:
        document = json.loads((_body_bytes(event) or b"").decode("utf-8"))  # text: a BOM is refused, as there
    except (ValueError, RecursionError):
        return 1
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or len(events) > MAX_BATCH_EVENTS:
        return 1
    return max(len(events), 1)


def as_json_content(event: dict[str, Any]) -> dict[str, Any]:
    """The request with a JSON body's Content-Type spelled `application/json`: the guard takes any JSON
    type (`+json`, any case, with parameters), the router only that one (its own 415 is not ErrorList)."""
    names = [name for name in (event.get("headers") or {}) if str(name).lower() == "content-type"]
    if not names or event.get("headers", {}).get(names[0]) == "application/json":
        return event
    kind = _content_type(event)
    if kind not in JSON_TYPES and not kind.endswith("+json"):
        return event
    headers = {name: value for name, value in event["headers"].items() if str(name).lower() != "content-type"}
    multi = {
        name: value
        for name, value in (event.get("multiValueHeaders") or {}).items()
        if str(name).lower() != "content-type"
    }
    return {
        **event,
        "headers": headers | {"Content-Type": "application/json"},
        "multiValueHeaders": multi | {"Content-Type": ["application/json"]},
    }


def _screen_body(event: Mapping[str, Any]) -> Rejection | None:
    if not event.get("body"):
        return None
    data = _body_bytes(event)
    if data is None:
        return Rejection(HTTPStatus.BAD_REQUEST, ("body",), "is not valid base64 (isBase64Encoded)")
    method = str(event.get("httpMethod", "")).upper()
    limit = BODY_LIMITS.get((method, str(event.get("path"))), MAX_BODY_BYTES)
    if len(data) > limit:
        return Rejection(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, ("body",), f"is over {limit} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return Rejection(HTTPStatus.BAD_REQUEST, ("body",), f"is not UTF-8 text (byte {error.start})")
    content_type = _content_type(event)
    if method in BODY_METHODS:
        form_allowed = (method, str(event.get("resource") or event.get("path"))) in FORM_ROUTES
        if form_allowed and content_type == FORM_TYPE:
            return _text_rejection(("body",), text)
        if content_type and content_type not in JSON_TYPES and not content_type.endswith("+json"):
            wanted = "application/json" + (f" or {FORM_TYPE}" if form_allowed else "")
            return Rejection(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                ("header", "Content-Type"),
                f"must be {wanted}, not {content_type}",
            )
    try:
        document = json.loads(text)
    except RecursionError:
        return Rejection(HTTPStatus.UNPROCESSABLE_ENTITY, ("body",), "is nested too deeply")
    except ValueError:
        return None  # the router answers what is not JSON, naming where it stops
    items = ITEM_LISTS.get((method, str(event.get("path"))))
    for loc, value in strings_in(document, ("body",)):
        if items is not None and len(loc) >= 3 and loc[1] == items and isinstance(loc[2], int):
            continue
        problem = storable_problem(value)
        if problem:
            return Rejection(HTTPStatus.UNPROCESSABLE_ENTITY, loc, problem)
    return None


def _text_rejection(loc: tuple[str | int, ...], text: str) -> Rejection | None:
    problem = storable_problem(text)
    return Rejection(HTTPStatus.UNPROCESSABLE_ENTITY, loc, problem) if problem else None


def _content_type(event: Mapping[str, Any]) -> str:
    for name, value in (event.get("headers") or {}).items():
        if str(name).lower() == "content-type":
            return str(value).split(";", 1)[0].strip().lower()
    return ""
