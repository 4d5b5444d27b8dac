"""The OpenAPI document a generated client is built from: every operation named and tagged from the
route table, every status it can answer declared with the body it sends."""

from typing import Any

import pytest
from openapi_spec_validator import validate

from notify.entrypoints.http.access import ROUTES, TAGS
from notify.entrypoints.http.api import openapi_document
from notify.entrypoints.http.openapi import _NOT_JSON

DOCUMENT = openapi_document()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
]
ERRORS = {"$ref": "#/components/schemas/ErrorList"}


def test_the_document_is_valid_openapi() -> None:
    validate(DOCUMENT)


def test_every_operation_is_named_and_tagged_as_the_route_table_says() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert len(ids) == len(set(ids))
    for method, path, operation in OPERATIONS:
        spec = ROUTES[(method, path)]
        assert operation["operationId"] == spec.operation_id
        assert operation["tags"] == [spec.tag]
        assert spec.operation_id[0].islower()
        assert "_" not in spec.operation_id
    used = {ROUTES[(method, path)].tag for method, path, _ in OPERATIONS}
    assert [tag["name"] for tag in DOCUMENT["tags"]] == [name for name in TAGS if name in used]


def test_every_route_but_the_documents_own_is_in_the_document() -> None:
    documented = {(method, path) for method, path, _ in OPERATIONS}
    assert set(ROUTES) - documented == {("GET", "/openapi.json"), ("GET", "/docs")}


def test_no_answer_refers_to_a_schema_the_api_never_sends() -> None:
    text = str(DOCUMENT)
    assert "HTTPValidationError" not in text
    assert "'ValidationError'" not in text


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=lambda v: str(v)[:40])
def test_every_operation_declares_the_refusals_every_request_can_get(
    method: str, path: str, operation: dict[str, Any]
) -> None:
    responses = operation["responses"]
    expected = {"400", "422", "503"}
    if method in {"POST", "PUT", "PATCH"}:
        expected |= {"413", "415"}
    if "{" in path:
        expected.add("404")
    if ROUTES[(method, path)].conflicts:
        expected.add("409")
    if ROUTES[(method, path)].scope is not None:
        expected |= {"401", "403", "429"}
    assert expected <= set(responses)
    for status, answer in responses.items():
        if status.startswith(("4", "5")) and path != "/health":
            assert answer["content"] == {"application/json": {"schema": ERRORS}}, status
        if status == "204":
            assert "content" not in answer
    successes = [status for status in responses if status.startswith(("2", "3"))]
    assert successes, "no success declared"


def test_what_is_not_json_is_declared_as_what_it_is() -> None:
    paths = DOCUMENT["paths"]
    for method in ("get", "post"):
        assert set(paths["/unsubscribe"][method]["responses"]["200"]["content"]) == {"text/html"}
    tracked = paths["/t/{token}"]["get"]["responses"]
    assert "content" not in tracked["302"]
    assert "Location" in tracked["302"]["headers"]
    assert set(tracked["200"]["content"]) == {"image/gif"}
    health = paths["/health"]["get"]["responses"]
    for status in ("200", "503"):
        assert health[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/HealthAnswer"
        }
    assert set(_NOT_JSON) <= set(ROUTES)


def test_statuses_channels_schedule_states_and_scopes_are_named_enums() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert "final" in schemas["NotificationStatus"]["description"].lower()
    assert {"queued", "sent", "delivered", "cancelled"} <= set(schemas["NotificationStatus"]["enum"])
    assert schemas["ScheduleState"]["enum"] == ["active", "paused", "done", "cancelled"]
    assert schemas["Channel"]["enum"] == ["email", "sms", "push"]
    assert "events:write" in schemas["Scope"]["enum"]
    view = schemas["NotificationView"]["properties"]
    assert view["status"] == {"$ref": "#/components/schemas/NotificationStatus"}
    state = schemas["ScheduleView"]["properties"]["state"]
    assert state == {"$ref": "#/components/schemas/ScheduleState"}
    patched = schemas["SchedulePatch"]["properties"]["state"]["anyOf"][0]
    assert patched == {"$ref": "#/components/schemas/ScheduleState"}
    listed = DOCUMENT["paths"]["/events/{event_id}/notifications"]["get"]["parameters"]
    status = next(p for p in listed if p["name"] == "status")
    assert status["schema"]["anyOf"][0] == {"$ref": "#/components/schemas/NotificationStatus"}


def test_ids_are_uuids_event_types_have_their_pattern_and_totals_are_typed() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    payload = schemas["EventPayload"]["properties"]
    assert payload["user"]["anyOf"][0]["items"] == {"type": "string", "format": "uuid"}
    assert payload["content"]["items"] == {"type": "string", "format": "uuid"}
    assert schemas["EventRequest"]["properties"]["event_type"]["pattern"] == "^[a-z0-9_]{1,64}$"
    totals = schemas["StatsView"]["properties"]["totals"]
    assert totals == {"$ref": "#/components/schemas/ChannelTotals"}
    assert set(schemas["ChannelTotals"]["required"]) == {"email", "sms", "push"}
