"""/suppressions through the ingest function: list, add by hand, lift; the address URL-encoded."""

from urllib.parse import quote

import pytest

from notify.access.ports import Scope
from notify.feedback.ports import Suppression
from tests.fakes import FakeEventStore
from tests.unit.api_calls import NOW, call, install_fakes, key_with


@pytest.fixture
def store() -> FakeEventStore:
    store = FakeEventStore()
    install_fakes(store)
    return store


def test_suppressions_put_adds_by_hand_and_get_lists_it(store: FakeEventStore) -> None:
    writer, reader = key_with(store, Scope.SUPPRESSIONS_WRITE), key_with(store, Scope.SUPPRESSIONS_READ)

    status, _, added = call("PUT", f"/suppressions/email/{quote('Someone@Example.com')}", writer)
    _, _, page = call("GET", "/suppressions?channel=email", reader)

    assert status == 200
    assert (added["channel"], added["address"], added["reason"]) == (
        "email",
        "someone@example.com",
        "operator",
    )
    assert [(i["address"], i["reason"]) for i in page["items"]] == [("someone@example.com", "operator")]
    assert page["next_cursor"] is None


def test_suppressions_put_keeps_the_first_reason(store: FakeEventStore) -> None:
    store.suppress([Suppression("email", "b@example.com", "hard_bounce", NOW)])

    status, _, answer = call(
        "PUT", "/suppressions/email/b%40example.com", key_with(store, Scope.ADMIN), {"reason": "ticket 42"}
    )

    assert status == 200
    assert answer["reason"] == "hard_bounce"


def test_suppressions_delete_lifts_and_a_second_delete_is_404(store: FakeEventStore) -> None:
    store.suppress([Suppression("sms", "+447700900123", "opted_out_sms", NOW)])
    writer = key_with(store, Scope.SUPPRESSIONS_WRITE)

    first = call("DELETE", f"/suppressions/sms/{quote('+447700900123')}", writer)
    second = call("DELETE", f"/suppressions/sms/{quote('+447700900123')}", writer)

    assert first[0] == 204
    assert second[0] == 404
    assert store.suppressions == {}


def test_suppressions_pages_follow_the_cursor(store: FakeEventStore) -> None:
    store.suppress([Suppression("email", f"u{n}@example.com", "complaint", NOW) for n in range(5)])
    reader = key_with(store, Scope.SUPPRESSIONS_READ)

    seen, cursor = [], None
    while True:
        _, _, page = call("GET", "/suppressions?limit=2" + (f"&cursor={cursor}" if cursor else ""), reader)
        seen += [item["address"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert seen == [f"u{n}@example.com" for n in range(5)]


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/suppressions/fax/a%40example.com", ["path", "channel"]),
        ("/suppressions/email/not-an-address", ["path", "address"]),
        ("/suppressions/sms/12345", ["path", "address"]),
        ("/suppressions/sms/%2B4477009%0A00269", ["path", "address"]),
    ],
)
def test_suppressions_put_refuses_a_bad_path_with_422_and_adds_nothing(
    store: FakeEventStore, path: str, loc: list[str]
) -> None:
    status, _, answer = call("PUT", path, key_with(store, Scope.SUPPRESSIONS_WRITE))

    assert status == 422
    assert answer["errors"][0]["loc"] == loc
    assert store.suppressions == {}


def test_suppressions_reading_needs_its_scope(store: FakeEventStore) -> None:
    status, _, answer = call("GET", "/suppressions", key_with(store, Scope.SUPPRESSIONS_WRITE))

    assert status == 403
    assert "suppressions:read" in answer["errors"][0]["msg"]
