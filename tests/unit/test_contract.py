"""The contract checker the integration and e2e clients hold every answer to: it must catch each way
an answer can differ from the document."""

import json

import pytest

from notify.entrypoints.http.api import openapi_document
from notify_dev.contract import Contract, ContractBroken

EVENT = "/events/00000000-0000-0000-0000-000000000001"
JSON = {"Content-Type": "application/json"}
ERRORS = json.dumps({"errors": [{"loc": ["path"], "msg": "no event"}]}).encode()


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(openapi_document())


def test_a_declared_answer_with_its_schema_passes(contract: Contract) -> None:
    assert contract.problems("GET", EVENT, 404, JSON, ERRORS) == []
    assert contract.problems("DELETE", "/topics/films", 204, {}, b"") == []


def test_an_undeclared_status_is_caught(contract: Contract) -> None:
    [problem] = contract.problems("GET", "/topics", 409, JSON, ERRORS)
    assert "GET /topics answered 409: the status is not declared" in problem


def test_a_body_that_is_not_the_declared_schema_is_caught(contract: Contract) -> None:
    [problem] = contract.problems("GET", EVENT, 404, JSON, json.dumps({"detail": "x"}).encode())
    assert "not the declared schema" in problem
    several = contract.problems(
        "GET", EVENT, 200, JSON, json.dumps({"event_id": "nope", "priority": "x"}).encode()
    )
    assert len(several) >= 2
    with pytest.raises(ContractBroken):
        contract.check("GET", EVENT, 200, JSON, json.dumps({"event_id": "nope"}).encode())


def test_a_body_on_a_204_and_a_content_type_not_declared_are_caught(contract: Contract) -> None:
    [body] = contract.problems("DELETE", "/topics/films", 204, JSON, b"null")
    assert "does not declare" in body
    [media] = contract.problems("GET", "/unsubscribe?token=x", 200, JSON, b'"page"')
    assert "text/html" in media


def test_a_path_no_operation_matches_has_no_contract(contract: Contract) -> None:
    assert contract.problems("GET", "/nowhere", 404, JSON, ERRORS) == []
