"""The requests `make fuzz` sends beyond the OpenAPI document, and the rule their answers keep."""

from notify.entrypoints.http.access import ROUTE_SCOPES
from notify_dev.beyond_schema import Case, header_cases, judge, method_cases, path_variant_cases
from notify_dev.path_variants import concrete, path_variants

PROTECTED = [(method, path) for (method, path), scope in ROUTE_SCOPES.items() if scope]


def test_beyond_schema_walks_every_protected_route_through_every_variant() -> None:
    cases = path_variant_cases(None)

    expected = sum(len(path_variants(concrete(path))) for _, path in PROTECTED)
    assert len(cases) == expected
    assert {case.method for case in cases} == {method for method, _ in PROTECTED}
    assert all("Authorization" not in case.headers for case in cases)
    assert all(case.unauthorised for case in cases)


def test_beyond_schema_leaves_out_the_routes_a_narrow_key_may_call() -> None:
    cases = path_variant_cases("nk_x", ["events:read"])

    readable = [path for (method, path), scope in ROUTE_SCOPES.items() if scope == "events:read"]
    assert readable
    assert not any(case.target in path_variants(concrete(path)) for case in cases for path in readable)
    assert any(case.target == "/keys//" and case.method == "POST" for case in cases)


def test_beyond_schema_methods_are_only_those_a_path_does_not_allow() -> None:
    cases = method_cases("nk_admin")

    for case in cases:
        assert (
            case.method,
            next(p for _, p in ROUTE_SCOPES if concrete(p) == case.target),
        ) not in ROUTE_SCOPES
    assert any(case.method == "DELETE" and case.target == "/keys" for case in cases)


def test_beyond_schema_leaves_out_a_method_another_route_serves_on_that_path() -> None:
    """GET /events/batch is GET /events/{event_id} with the id `batch` (a handler's 422 is its answer)."""
    cases = {(case.method, case.target) for case in method_cases("nk_admin")}

    assert ("GET", "/events/batch") not in cases
    assert ("DELETE", "/events/batch") in cases


def test_beyond_schema_header_cases_carry_control_characters_and_sizes() -> None:
    values = [value for case in header_cases("nk_admin") for value in case.headers.values()]

    assert any("\x01" in value for value in values)
    assert any("\r" in value for value in values)
    assert any(len(value) > 65_000 for value in values)


def test_beyond_schema_judge_refuses_5xx_and_anything_past_the_check_without_a_key() -> None:
    unauthorised = Case("x", "GET", "/keys")
    keyed = Case("y", "POST", "/events", unauthorised=False)

    challenge = {
        "errors": [{"loc": ["header", "Authorization"], "msg": "send Authorization: Bearer <API key>"}]
    }
    assert judge(unauthorised, 401, challenge) is None
    assert judge(unauthorised, 403, {"message": "Missing Authentication Token"}) is None
    assert judge(unauthorised, 404, {"errors": [{"loc": ["path"], "msg": "no such route"}]}) is None
    assert judge(unauthorised, 404, {"message": "Not Found"}) is None  # API Gateway's own
    assert judge(unauthorised, 400, None) is None  # the HTTP server refused the request line
    assert judge(unauthorised, 200, {"keys": []}) is not None
    assert judge(unauthorised, 422, {"errors": []}) is not None
    # A handler's own 404 or 403 means the request got past the check.
    assert judge(unauthorised, 404, {"errors": [{"loc": ["path"], "msg": "no event 5f0c1d3e"}]}) is not None
    assert judge(unauthorised, 403, {"errors": [{"loc": ["path"], "msg": "built in"}]}) is not None
    assert judge(keyed, 422, {"errors": []}) is None
    assert judge(Case("h", "HEAD", "/keys"), 403, None) is None  # no body on HEAD: the status decides
    assert judge(Case("h", "HEAD", "/keys"), 200, None) is not None
    assert judge(keyed, 502, None) is not None
