"""The OpenAPI document, completed from the route table (access.py) so that it tells the truth a
generated client relies on: every status an operation can answer with the body it sends, an
operationId and a tag per route, the bearer scheme where a key is asked.

Powertools writes each route's parameters, body and success answer from its signature; what it
cannot know is added here, for every operation alike:
- what the request guard and the router answer before any handler: 400 (a header or a body that
  cannot be read), 413 (a body too large, on any method), 415 (a body not JSON), 422 (a parameter or
  a body refused);
- what the access check answers on a protected route: 401, 403, 429;
- 404 on a route with a path parameter (the thing it names is not there) and where the table says
  so, 409 where the table says so, and 503 everywhere (a dependency that does not answer: retry);
- every error's body: `ErrorList` (`{"errors": [{"loc", "msg"}]}`), never powertools'
  `HTTPValidationError`, which the API does not send;
- the answers that are not JSON: a 204 has no content, pages are text/html, the tracked link is a
  302 and the open pixel a GIF."""

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

from notify.entrypoints.http.access import ROUTES, TAGS
from notify.entrypoints.http.request_guard import BODY_LIMITS, BODY_METHODS, MAX_BODY_BYTES
from notify.models import ErrorList

BEARER_SCHEME = "bearerAuth"
_ERRORS_REF = "#/components/schemas/ErrorList"
_HEALTH_REF = "#/components/schemas/HealthAnswer"
_POWERTOOLS_ONLY = ("HTTPValidationError", "ValidationError", "ResponseValidationError")

_HEALTH_ANSWER = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok", "degraded"]}},
    "additionalProperties": True,
    "description": "`status`, then each part (`database`, `queue`, …): `ok` or `unavailable: <error>`, "
    "then what the parts that answered told (dead letters, backlog).",
}
_HTML = {"text/html": {"schema": {"type": "string"}}}

# Answers that are not JSON, by route and status.
_NOT_JSON: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("GET", "/unsubscribe"): {"200": {"description": "The page that asks to confirm", "content": _HTML}},
    ("POST", "/unsubscribe"): {"200": {"description": "The page that says it is done", "content": _HTML}},
    ("GET", "/t/{token}"): {
        "302": {
            "description": "To the tracked link",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        },
        "200": {
            "description": "The open pixel (a token ending in .gif), or an expired link's stand-in",
            "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
    ("GET", "/health"): {
        "200": {
            "description": "Every part answers",
            "content": {"application/json": {"schema": {"$ref": _HEALTH_REF}}},
        },
        "503": {
            "description": "A part does not answer",
            "content": {"application/json": {"schema": {"$ref": _HEALTH_REF}}},
        },
    },
}


def _error(description: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": _ERRORS_REF}}},
    }
    if headers:
        answer["headers"] = {name: {"schema": {"type": kind}} for name, kind in headers.items()}
    return answer


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Powertools' document, completed (see the module's docstring)."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": 'An API key (nk_<id>_<secret>): `make keys ARGS="create …"` or POST /keys.',
    }
    schemas = components.setdefault("schemas", {})
    for name in _POWERTOOLS_ONLY:
        schemas.pop(name, None)
    errors = ErrorList.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(errors.pop("$defs", {}))
    schemas["ErrorList"] = errors
    schemas["HealthAnswer"] = _HEALTH_ANSWER
    used_tags: set[str] = set()
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            spec = ROUTES[(method.upper(), path)]
            operation["operationId"] = spec.operation_id
            operation["tags"] = [spec.tag]
            used_tags.add(spec.tag)
            operation["responses"] = _responses(method.upper(), path, operation.get("responses", {}))
            if spec.scope is None:
                operation["security"] = []
                continue
            operation["security"] = [{BEARER_SCHEME: []}]
            operation["description"] = (
                operation.get("description", "")
                + f"\n\nNeeds an API key with the scope `{spec.scope}` (or `admin`)."
            ).strip()
    document["tags"] = [
        {"name": name, "description": text} for name, text in TAGS.items() if name in used_tags
    ]
    return document


def _responses(method: str, path: str, declared: dict[str, Any]) -> dict[str, Any]:
    spec = ROUTES[(method, path)]
    answers: dict[str, Any] = {}
    for status, answer in declared.items():
        if status == "422":
            continue  # powertools' HTTPValidationError: replaced below
        if status == "204":
            answer = {"description": answer.get("description", "No content")}
        answers[status] = answer
    answers.update(_NOT_JSON.get((method, path), {}))
    answers["400"] = _error("A header, or the body, that cannot be read (not UTF-8, not base64)")
    answers["422"] = _error("A parameter or the body refused: each problem names its field")
    # Any method's body is measured (API Gateway passes a GET's or a DELETE's on); its type is
    # checked where a body is read.
    answers["413"] = _error(f"The body is over {BODY_LIMITS.get((method, path), MAX_BODY_BYTES):,} bytes")
    if method in BODY_METHODS:
        answers["415"] = _error("The body is not JSON (Content-Type)")
    if "{" in path or spec.finds:
        answers["404"] = _error("What the path names is not there")
    if spec.conflicts:
        answers["409"] = _error(
            "In conflict with the state it would change, or an Idempotency-Key's first use"
        )
    if spec.scope is not None:
        answers["401"] = _error(
            "No API key, or one malformed, unknown or revoked", {"WWW-Authenticate": "string"}
        )
        answers["403"] = _error(f"The key lacks the scope {spec.scope}")
        answers["429"] = _error("The key's rate limit is reached", {"Retry-After": "integer"})
    answers.setdefault("503", _error("A dependency does not answer: retry later"))
    return dict(sorted(answers.items()))


def swagger_page(document_text: str) -> str:
    """Swagger UI's page over `document_text`, its script and style inlined (powertools ships them)."""
    shipped = Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        # `</` escaped, so that the document cannot close the page's script element.
        document_text.replace("</", "<\\/"),
        (shipped / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (shipped / "swagger-ui.min.css").read_text(encoding="utf-8"),
        swagger_base_url="",
        oauth2_config=None,
    )
