"""The HTTP API called in-process as API Gateway would, with API keys of the test's own."""

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from functions.ingest.app import lambda_handler
from notify import bootstrap
from notify.access.keys import issue_key
from notify.access.ports import ApiKeys
from notify.bootstrap import Services
from notify.settings import Settings
from notify_dev.contract import check_proxy_answer, proxy_headers
from tests.fakes import FakeDeadLetters, FakeEventStore, FakeLambdaContext, FakePublisher

NOW = datetime.now(UTC)


def install_fakes(store: FakeEventStore, publisher: FakePublisher | None = None) -> Services:
    """Services over the fake store (every storage port) and publisher, installed as the composition;
    tests/unit/conftest.py uninstalls it after each test."""
    services = Services(Settings())
    services.use_store(store)
    services.publisher = publisher if publisher is not None else FakePublisher()
    services.dead_letters = FakeDeadLetters()
    bootstrap.install(services)
    return services


def key_with(store: ApiKeys, *scopes: str, rate: int | None = None) -> str:
    return issue_key("test", scopes, rate, now=NOW, keys=store).key


def call(
    method: str,
    path: str,
    key: str | None = None,
    body: Any = None,
    *,
    checked: bool = True,
    content_type: str = "application/json",
) -> tuple[int, dict[str, str], Any]:
    """The answer, held against the OpenAPI document unless `checked` is False (a test that answers
    for the router itself)."""
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = key if key.startswith(("Bearer", "Basic", "bearer")) else f"Bearer {key}"
    path, _, query_text = path.partition("?")
    query = dict(parse_qsl(query_text)) or None
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "requestContext": {"stage": "v1", "requestId": "test", "path": f"/v1{path}"},
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
    answer = lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    if checked:
        check_proxy_answer(method, path, answer)
    headers_out = proxy_headers(answer)
    text = answer["body"] or ""
    try:
        return answer["statusCode"], headers_out, json.loads(text) if text else None
    except ValueError:
        return answer["statusCode"], headers_out, text
