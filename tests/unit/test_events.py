"""The sample Lambda events in events/ have the real AWS shapes and carry valid service payloads."""

import hashlib
import json
import uuid

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    EventBridgeModel,
    SqsModel,
)
from pydantic import TypeAdapter

from notify.channels import CONTACT_FIELD, Channel, queue_name, tier_for
from notify.events.models import DirectoryMovie, DirectoryUser, EventRequest
from tests.unit.builders import EVENTS_DIR, load_event, messages_of


def test_events_folder_holds_the_expected_samples() -> None:
    assert sorted(path.stem for path in EVENTS_DIR.glob("*.json")) == [
        "api_get_event",
        "api_health",
        "api_list_notifications",
        "api_list_schedules",
        "api_post_event",
        "api_put_movies",
        "api_put_users",
        "sqs_email",
        "sqs_feedback",
        "sqs_push",
        "sqs_sms",
        "tick",
    ]


@pytest.mark.parametrize("channel", list(Channel))
def test_events_sqs_batch_is_an_sqs_event_of_notification_messages(channel: Channel) -> None:
    event = load_event(f"sqs_{channel.value}")
    parsed = SqsModel.model_validate(event)

    assert parsed.Records
    for record, raw, message in zip(parsed.Records, event["Records"], messages_of(event), strict=True):
        assert record.eventSource == "aws:sqs"
        assert record.md5OfBody == hashlib.md5(raw["body"].encode()).hexdigest()  # noqa: S324 - SQS's checksum
        assert message.transport_type is channel
        assert message.schema_version == 1
        assert record.eventSourceARN.endswith(":" + queue_name(channel, tier_for(message.priority)))
        assert all(getattr(user, CONTACT_FIELD[channel]) for user in message.payload.user)


def test_events_tick_is_an_eventbridge_scheduled_event() -> None:
    parsed = EventBridgeModel.model_validate(load_event("tick"))
    assert parsed.detail_type == "Scheduled Event"
    assert parsed.source == "aws.events"
    assert parsed.detail == {}


@pytest.mark.parametrize(
    ("name", "method", "path"),
    [
        ("api_post_event", "POST", "/events"),
        ("api_get_event", "GET", "/events/3b1f6c2d-8e4a-4f5b-9c6d-7e8f9a0b1c2d"),
        ("api_health", "GET", "/health"),
        ("api_put_users", "PUT", "/directory/users"),
        ("api_put_movies", "PUT", "/directory/movies"),
        ("api_list_notifications", "GET", "/events/3b1f6c2d-8e4a-4f5b-9c6d-7e8f9a0b1c2d/notifications"),
        ("api_list_schedules", "GET", "/schedules"),
    ],
)
def test_events_api_requests_are_rest_proxy_events(name: str, method: str, path: str) -> None:
    parsed = APIGatewayProxyEventModel.model_validate(load_event(name))
    assert (parsed.httpMethod, parsed.path) == (method, path)
    assert parsed.requestContext.stage == "prod"


def test_events_api_post_event_body_is_a_valid_event_request() -> None:
    event = load_event("api_post_event")
    request = EventRequest.model_validate_json(event["body"])
    assert request.priority == 7
    assert request.payload.user is not None
    assert len(request.payload.user) == 2
    assert event["headers"]["Idempotency-Key"]
    assert json.loads(event["body"])["event_type"] == "new_episode"


def test_events_api_put_bodies_are_valid_directory_rows() -> None:
    users = TypeAdapter(list[DirectoryUser]).validate_json(load_event("api_put_users")["body"])
    movies = TypeAdapter(list[DirectoryMovie]).validate_json(load_event("api_put_movies")["body"])
    posted = EventRequest.model_validate_json(load_event("api_post_event")["body"])
    # the directory the POST sample needs
    assert {u.user_id for u in users} >= {uuid.UUID(str(u)) for u in posted.payload.user or ()}
    assert {m.movie_id for m in movies} >= {uuid.UUID(str(c)) for c in posted.payload.content}
