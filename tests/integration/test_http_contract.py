"""Answers a review found the document did not describe (issue 31): each is now declared, or answered
in the shape declared. The client holds every answer to the document (ContractBroken otherwise)."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notify.bootstrap import Services, install
from notify.delivery.unsubscribe_links import Unsubscribe, sign_token
from notify.entrypoints.http.api import openapi_document
from notify.settings import Settings
from tests.fakes import FakeDeadLetters, FakePublisher
from tests.integration.conftest import Api
from tests.integration.support import ApiClient

OVER_THE_LIMIT = "x" * 6_000_001


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unsubscribe_link_of_a_user_gone_from_the_directory_is_a_declared_404(
    api: Api, method: str
) -> None:
    token = sign_token(
        Unsubscribe(uuid.uuid4(), "new_episode"),
        secret=api.services.unsubscribe_keys.signing_key(),
        now=datetime.now(UTC),
        valid_for=timedelta(days=1),
    )
    answer = api.request("POST", "/unsubscribe", query={"token": token})
    assert answer.status == 404
    assert answer.json["errors"][0]["msg"].startswith("no user")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/stats"),
        ("DELETE", "/topics/news"),
        ("GET", "/t/abc"),
        ("GET", "/unsubscribe"),
    ],
)
def test_a_body_over_the_limit_on_any_method_is_a_declared_413(api: Api, method: str, path: str) -> None:
    answer = api.request(method, path, raw_body=OVER_THE_LIMIT)
    assert answer.status == 413
    assert answer.json["errors"][0]["loc"] == ["body"]


def test_health_with_the_database_unreachable_answers_its_own_shape() -> None:
    services = Services(Settings(database_url="postgresql://nobody:x@127.0.0.1:1/nothing"))
    services.publisher = FakePublisher()
    services.dead_letters = FakeDeadLetters()
    install(services)
    try:
        answer = ApiClient().request("GET", "/health")
    finally:
        install(None)
    assert answer.status == 503
    assert answer.json["status"] == "degraded"
    assert answer.json["database"].startswith("unavailable: ")


def test_the_swagger_page_and_its_json_are_the_completed_document(api: Api) -> None:
    as_json = api.request("GET", "/docs", query={"format": "json"})
    assert as_json.status == 200
    assert as_json.json == json.loads(json.dumps(openapi_document()))
    page = api.request("GET", "/docs")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "ErrorList" in page.text
    assert "HTTPValidationError" not in page.text
