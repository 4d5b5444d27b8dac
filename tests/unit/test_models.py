import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from notify.channels import Channel, EventType
from notify.delivery.models import NotificationMessage, QuietHoursDocument
from notify.events.models import DirectoryUser, EventRequest
from notify.models import MAX_USERS_PER_EVENT
from tests.unit.builders import content, message, recipient

USER = "a1a1a1a1-0000-4000-8000-000000000001"
MOVIE = "7c2b3a1e-5d4f-4e6a-9b8c-0d1e2f3a4b5c"


def body(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "event_type": "new_episode",
        "created_dt": "2025-03-14T09:00:00+00:00",
        "payload": {"user": [USER], "content": [MOVIE]},
    }
    request.update(changes)
    return request


def errors_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        EventRequest.model_validate(data)
    return [dict(error) for error in caught.value.errors()]


def test_event_request_accepts_a_minimal_body_with_defaults() -> None:
    request = EventRequest.model_validate(body())
    assert request.event_type is EventType.NEW_EPISODE
    assert request.priority == 5
    assert request.timezone == "UTC"
    assert request.schedule is None
    assert request.payload.user == [USER]


def test_event_request_malformed_user_uuid_names_its_index() -> None:
    errors = errors_of(body(payload={"user": [USER, "not-a-uuid"], "content": [MOVIE]}))
    assert len(errors) == 1
    assert errors[0]["loc"] == ("payload", "user", 1)
    assert "is not a valid UUID" in errors[0]["msg"]


def test_event_request_malformed_content_uuid_names_its_index() -> None:
    errors = errors_of(body(payload={"user": [USER], "content": [MOVIE, MOVIE, "123"]}))
    assert [error["loc"] for error in errors] == [("payload", "content", 2)]


@pytest.mark.parametrize("priority", [-1, 10, 100])
def test_event_request_priority_out_of_range(priority: int) -> None:
    errors = errors_of(body(priority=priority))
    assert [error["loc"] for error in errors] == [("priority",)]


@pytest.mark.parametrize("priority", [0, 9])
def test_event_request_priority_bounds_accepted(priority: int) -> None:
    assert EventRequest.model_validate(body(priority=priority)).priority == priority


def test_event_request_empty_user_list() -> None:
    errors = errors_of(body(payload={"user": [], "content": []}))
    assert [(error["loc"], error["type"]) for error in errors] == [(("payload", "user"), "too_short")]


def test_event_request_more_than_max_users() -> None:
    errors = errors_of(body(payload={"user": [USER] * (MAX_USERS_PER_EVENT + 1)}))
    assert [(error["loc"], error["type"]) for error in errors] == [(("payload", "user"), "too_long")]


def test_event_request_exactly_max_users_accepted() -> None:
    request = EventRequest.model_validate(body(payload={"user": [USER] * MAX_USERS_PER_EVENT}))
    assert request.payload.user is not None
    assert len(request.payload.user) == MAX_USERS_PER_EVENT


def test_event_request_cron_with_six_fields_says_why() -> None:
    errors = errors_of(body(schedule="0 9 * * * *"))
    assert errors[0]["loc"] == ("schedule",)
    assert "must have 5 fields" in errors[0]["msg"]
    assert "got 6" in errors[0]["msg"]


def test_event_request_cron_with_bad_value_says_why() -> None:
    errors = errors_of(body(schedule="61 9 * * *"))
    assert errors[0]["loc"] == ("schedule",)
    assert "is not a valid cron expression" in errors[0]["msg"]


def test_event_request_good_cron_accepted() -> None:
    assert EventRequest.model_validate(body(schedule="0 9 * * 1-5")).schedule == "0 9 * * 1-5"


def test_event_request_unknown_timezone() -> None:
    errors = errors_of(body(timezone="Mars/Olympus_Mons"))
    assert errors[0]["loc"] == ("timezone",)
    assert "unknown IANA time zone" in errors[0]["msg"]


def test_event_request_naive_created_dt_rejected() -> None:
    errors = errors_of(body(created_dt="2025-03-14T09:00:00"))
    assert [(error["loc"], error["type"]) for error in errors] == [(("created_dt",), "timezone_aware")]


def test_event_request_naive_start_dt_rejected() -> None:
    errors = errors_of(body(start_dt="2025-03-14T09:00:00"))
    assert [error["loc"] for error in errors] == [("start_dt",)]


def test_event_request_extra_fields_forbidden() -> None:
    errors = errors_of(body(urgent=True))
    assert [(error["loc"], error["type"]) for error in errors] == [(("urgent",), "extra_forbidden")]


def test_event_request_extra_payload_fields_forbidden() -> None:
    errors = errors_of(body(payload={"user": [USER], "movies": [MOVIE]}))
    assert [error["loc"] for error in errors] == [("payload", "movies")]


def test_event_request_event_type_that_can_name_no_workflow() -> None:
    # Whether a key names an active workflow is the ingest's to say (tests/unit/events/test_ingest.py).
    errors = errors_of(body(event_type="Birthday-Cake"))
    assert [error["loc"] for error in errors] == [("event_type",)]


@pytest.mark.parametrize("phone", ["+79161234567", "+12025550123", "+44770090", "+123456789012345"])
def test_directory_user_accepts_e164_phone(phone: str) -> None:
    assert DirectoryUser(user_id=uuid.uuid4(), phone=phone).phone == phone


@pytest.mark.parametrize(
    "phone",
    ["89161234567", "+7 916 123 45 67", "+7916123", "+1234567890123456", "+7abc", "+79161234567\n"],
)
def test_directory_user_rejects_non_e164_phone(phone: str) -> None:
    with pytest.raises(ValidationError, match=r"must be E\.164"):
        DirectoryUser(user_id=uuid.uuid4(), phone=phone)


@pytest.mark.parametrize("clock", ["24:00", "7:00", "22:00\n", "22:00:00", ""])
def test_quiet_hours_rejects_what_is_not_hh_mm(clock: str) -> None:
    with pytest.raises(ValidationError, match="must be a time of day as HH:MM"):
        QuietHoursDocument(start=clock, end="07:00")


def test_quiet_hours_accepts_hh_mm() -> None:
    assert QuietHoursDocument(start="23:59", end="00:00").start == "23:59"


@pytest.mark.parametrize("email", ["alice@example.com", "a@b"])
def test_directory_user_accepts_email(email: str) -> None:
    assert DirectoryUser(user_id=uuid.uuid4(), email=email).email == email


@pytest.mark.parametrize("email", ["alice.example.com", "@example.com", "alice@", "a@b@c"])
def test_directory_user_rejects_bad_email(email: str) -> None:
    with pytest.raises(ValidationError, match="is not an e-mail address"):
        DirectoryUser(user_id=uuid.uuid4(), email=email)


def test_directory_user_rejects_unknown_locale_and_timezone() -> None:
    with pytest.raises(ValidationError) as caught:
        DirectoryUser(user_id=uuid.uuid4(), locale="de", timezone="Nowhere/City")
    assert {error["loc"] for error in caught.value.errors()} == {("locale",), ("timezone",)}


def test_notification_message_round_trip() -> None:
    original = message(
        [recipient(email="alice@example.com", locale="ru"), recipient(email="bob@example.com")],
        movies=[content(), content(title="Other", season=None, episode=None)],
    )
    text = original.model_dump_json()
    again = NotificationMessage.model_validate_json(text)
    assert again == original
    assert again.payload.user[0].locale == "ru"
    assert again.payload.content[1].season is None


def test_notification_message_is_version_two_and_still_reads_version_one() -> None:
    # Issue 30: version 2 carries the send step and each recipient's notification id.
    original = message([recipient(email="alice@example.com")]).model_copy(update={"schema_version": 2})
    dumped = original.model_dump(mode="json")
    assert dumped["schema_version"] == 2
    old = {k: v for k, v in dumped.items() if k not in ("step", "workflow_version")} | {"schema_version": 1}
    old["payload"]["user"] = [
        {k: v for k, v in u.items() if k != "notification_id"} for u in old["payload"]["user"]
    ]
    read = NotificationMessage.model_validate(old)
    assert (read.schema_version, read.step, read.workflow_version) == (1, 0, 1)
    assert read.payload.user[0].notification_id is None
    dumped["schema_version"] = 3
    with pytest.raises(ValidationError) as caught:
        NotificationMessage.model_validate(dumped)
    assert [error["loc"] for error in caught.value.errors()] == [("schema_version",)]


def test_notification_message_parses_a_body_without_optional_fields() -> None:
    data = {
        "message_id": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "event_type": "comment_liked",
        "created_dt": datetime(2025, 1, 1, tzinfo=UTC).isoformat(),
        "transport_type": "push",
        "priority": 1,
        "payload": {"user": [{"user_id": str(uuid.uuid4()), "push_token": "tok"}], "content": []},
    }
    parsed = NotificationMessage.model_validate(data)
    assert parsed.schema_version == 1
    assert parsed.transport_type is Channel.PUSH
    assert parsed.payload.user[0].locale == "en"


@pytest.mark.parametrize(
    "payload",
    [
        {"user": [USER], "audience": "series:abc"},
        {"content": []},
    ],
    ids=["both", "neither"],
)
def test_event_request_needs_exactly_one_of_user_and_audience(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        EventRequest.model_validate(body(payload=payload))
    assert "exactly one of user" in str(caught.value)


@pytest.mark.parametrize("topic", ["", "Series:ABC", "series abc", "x" * 201, "genre:drama\n", "séries"])
def test_event_request_rejects_a_bad_audience_name(topic: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EventRequest.model_validate(body(payload={"audience": topic}))
    assert caught.value.errors()[0]["loc"] == ("payload", "audience")


def test_event_request_accepts_an_audience_alone() -> None:
    request = EventRequest.model_validate(body(payload={"audience": "series:7c2b3a1e_s2-e5"}))
    assert (request.payload.audience, request.payload.user) == ("series:7c2b3a1e_s2-e5", None)
