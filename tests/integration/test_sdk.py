"""The Python SDK (clients/python, generated from the document) driven against the API in-process:
every answer parsed into its typed model, errors into ErrorList, none read as raw JSON."""

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from notify.adapters.postgres import PostgresStore
from notify.entrypoints.http import handle
from notify_client import AuthenticatedClient
from notify_client.api.directory import put_movies, put_users
from notify_client.api.events import cancel_event, get_event, list_notifications, post_event, post_events
from notify_client.api.suppressions import delete_suppression, put_suppression
from notify_client.api.topics import change_subscribers, delete_topic, put_topic
from notify_client.models import (
    BatchAccepted,
    BatchResultStatus,
    Channel,
    DirectoryMovie,
    DirectoryUser,
    ErrorList,
    EventAccepted,
    EventBatch,
    EventBatchBatchEvent,
    EventCancelled,
    EventPayload,
    EventRequest,
    EventView,
    NotificationPage,
    NotificationStatus,
    SubscribersChange,
    SubscribersChanged,
    SuppressionRequest,
    SuppressionView,
    TopicRequest,
    TopicView,
    Upserted,
)
from notify_dev.contract import check_proxy_answer, proxy_headers
from tests.integration.conftest import Api
from tests.integration.support import CONTEXT, rest_event
from tests.integration.test_workflows import expiring


def _in_process(request: httpx.Request) -> httpx.Response:
    """API Gateway's proxy integration, in-process: the request as Lambda's event, the answer back."""
    path = request.url.raw_path.decode().split("?")[0]
    query = dict(request.url.params) or None
    headers = {
        name.title(): value for name, value in request.headers.items() if name.lower() != "content-length"
    }
    body = request.content.decode() if request.content else None
    answer = handle(rest_event(request.method, path, body=body, headers=headers, query=query), CONTEXT)
    check_proxy_answer(request.method, path, answer)
    body_out = (answer["body"] or "").encode()
    return httpx.Response(answer["statusCode"], headers=proxy_headers(answer), content=body_out)


@pytest.fixture
def sdk(api: Api) -> AuthenticatedClient:
    assert api.api_key
    return AuthenticatedClient(
        base_url="https://api.example.test",
        token=api.api_key,
        httpx_args={"transport": httpx.MockTransport(_in_process)},
    )


def test_a_producers_scenario_through_the_sdk_is_typed_end_to_end(
    sdk: AuthenticatedClient, store: PostgresStore
) -> None:
    user_id, movie_id, topic = uuid.uuid4(), uuid.uuid4(), f"sdk_{uuid.uuid4().hex[:8]}"
    users = put_users.sync(
        client=sdk, body=[DirectoryUser(user_id=user_id, email=f"{user_id}@example.com", first_name="Ann")]
    )
    assert isinstance(users, Upserted)
    assert users.upserted == 1
    movies = put_movies.sync(client=sdk, body=[DirectoryMovie(movie_id=movie_id, title="Dune")])
    assert isinstance(movies, Upserted)
    assert isinstance(put_topic.sync(topic, client=sdk, body=TopicRequest(description="fans")), TopicView)
    changed = change_subscribers.sync(topic, client=sdk, body=SubscribersChange(add=[user_id]))
    assert isinstance(changed, SubscribersChanged)
    assert changed.subscribers == 1

    request = EventRequest(
        event_type="new_episode",
        created_dt=datetime.now(UTC),
        payload=EventPayload(user=[user_id], content=[movie_id]),
    )
    key = str(uuid.uuid4())
    first = post_event.sync_detailed(client=sdk, body=request, idempotency_key=key)
    assert first.status_code == 202
    assert isinstance(first.parsed, EventAccepted)
    again = post_event.sync(client=sdk, body=request, idempotency_key=key)
    assert isinstance(again, EventAccepted)
    assert again.event_id == first.parsed.event_id

    other = EventRequest(
        event_type="new_episode", created_dt=datetime.now(UTC), payload=EventPayload(user=[user_id])
    )
    conflict = post_event.sync_detailed(client=sdk, body=other, idempotency_key=key)
    assert conflict.status_code == 409
    assert isinstance(conflict.parsed, ErrorList)
    assert conflict.parsed.errors[0].loc == ["header", "Idempotency-Key"]

    event_id = first.parsed.event_id
    page = list_notifications.sync(event_id, client=sdk)
    assert isinstance(page, NotificationPage)
    assert {item.status for item in page.items} <= set(NotificationStatus)
    assert isinstance(get_event.sync(event_id, client=sdk), EventView)
    assert isinstance(cancel_event.sync(event_id, client=sdk), EventCancelled)

    missing = get_event.sync_detailed(uuid.uuid4(), client=sdk)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, ErrorList)

    address = f"{user_id}@example.com"
    suppressed = put_suppression.sync(Channel.EMAIL, address, client=sdk, body=SuppressionRequest())
    assert isinstance(suppressed, SuppressionView)
    lifted = delete_suppression.sync_detailed(Channel.EMAIL, address, client=sdk)
    assert lifted.status_code == 204
    assert lifted.parsed is None
    assert delete_topic.sync_detailed(topic, client=sdk).status_code == 204
    assert json.loads(json.dumps(page.to_dict()))["items"]  # the model round-trips to JSON


def test_an_event_the_sdk_posts_without_a_priority_runs_at_its_workflow_s(
    api: Api, sdk: AuthenticatedClient, store: PostgresStore
) -> None:
    """The document gives no default priority: a generated client then leaves it out, as the API
    means (the workflow's own), instead of sending a made-up 5."""
    assert api.request("PUT", "/workflows/expiring", json_body=expiring()).status == 201  # priority 8
    user_id = uuid.uuid4()
    put_users.sync(client=sdk, body=[DirectoryUser(user_id=user_id, phone="+447700900123")])
    request = EventRequest(
        event_type="expiring", created_dt=datetime.now(UTC), payload=EventPayload(user=[user_id])
    )

    accepted = post_event.sync(client=sdk, body=request)

    assert isinstance(accepted, EventAccepted)
    assert {message.queue for message in api.publisher.published} == {"notify-sms-high"}


def test_a_batch_through_the_sdk_answers_each_event_typed(api: Api, sdk: AuthenticatedClient) -> None:
    user_id = uuid.uuid4()
    put_users.sync(client=sdk, body=[DirectoryUser(user_id=user_id, email=f"{user_id}@example.com")])
    key = f"batch-{uuid.uuid4()}"
    keyed = EventBatchBatchEvent(
        event_type="comment_liked",
        created_dt=datetime.now(UTC),
        payload=EventPayload(user=[user_id]),
        idempotency_key=key,
    )
    unknown_movie = EventBatchBatchEvent(
        event_type="comment_liked",
        created_dt=datetime.now(UTC),
        payload=EventPayload(user=[user_id], content=[uuid.uuid4()]),
    )

    first = post_events.sync(client=sdk, body=EventBatch(events=[keyed, unknown_movie]))
    again = post_events.sync(client=sdk, body=EventBatch(events=[keyed]))

    assert isinstance(first, BatchAccepted)
    assert isinstance(again, BatchAccepted)
    accepted, refused = first.results
    assert (accepted.status, refused.status) == (BatchResultStatus.VALUE_202, BatchResultStatus.VALUE_422)
    assert isinstance(accepted.body, EventAccepted)
    assert isinstance(refused.body, ErrorList)
    assert refused.body.errors[0].loc == ["body", "events", 1, "payload", "content", 0]
    assert isinstance(again.results[0].body, EventAccepted)
    assert again.results[0].body.event_id == accepted.body.event_id
