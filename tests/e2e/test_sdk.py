"""A producer's scenario through the Python SDK (clients/python, generated from the document) against
the deployed stack: every answer parsed into its typed model, errors into ErrorList, none read as raw
JSON; every answer also held against the stack's own document."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from notify_client import AuthenticatedClient
from notify_client.api.directory import put_users
from notify_client.api.events import cancel_event, get_event, list_notifications, post_event, post_events
from notify_client.api.suppressions import delete_suppression, put_suppression
from notify_client.api.topics import change_subscribers, delete_topic, put_topic
from notify_client.models import (
    BatchAccepted,
    Channel,
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
from notify_dev.benchmarks import zone_where_it_is
from tests.e2e.conftest import Api, unique_user

pytestmark = pytest.mark.e2e

ON_ITS_WAY = {NotificationStatus.QUEUED, NotificationStatus.SENDING, NotificationStatus.RETRYING}


@pytest.fixture
def sdk(api: Api) -> AuthenticatedClient:
    def held_to_the_document(response: httpx.Response) -> None:
        response.read()
        path = response.request.url.raw_path.decode().removeprefix(httpx.URL(api.base_url).raw_path.decode())
        api.contract.check(
            response.request.method, path, response.status_code, dict(response.headers), response.content
        )

    return AuthenticatedClient(
        base_url=api.base_url,
        token=api.auth["Authorization"].removeprefix("Bearer "),
        timeout=httpx.Timeout(30.0),
        httpx_args={"event_hooks": {"response": [held_to_the_document]}},
    )


def test_a_producers_scenario_through_the_sdk(
    api: Api, sdk: AuthenticatedClient, movie: dict[str, Any]
) -> None:
    # a time zone where it is 14:00: outside the default quiet hours whenever the suite runs
    contact = unique_user(timezone=zone_where_it_is(14))
    user_id = uuid.UUID(contact["user_id"])
    api.users.append(contact["user_id"])
    api.contacts.append(contact)
    users = put_users.sync(
        client=sdk,
        body=[
            DirectoryUser(
                user_id=user_id, email=contact["email"], first_name="Sdk", timezone=contact["timezone"]
            )
        ],
    )
    assert isinstance(users, Upserted)
    assert users.upserted == 1
    topic = f"sdk_{uuid.uuid4().hex[:10]}"
    assert isinstance(put_topic.sync(topic, client=sdk, body=TopicRequest(description="e2e")), TopicView)
    joined = change_subscribers.sync(topic, client=sdk, body=SubscribersChange(add=[user_id]))
    assert isinstance(joined, SubscribersChanged)
    assert joined.subscribers == 1

    request = EventRequest(
        event_type="watch_later_reminder",
        created_dt=datetime.now(UTC),
        payload=EventPayload(user=[user_id], content=[uuid.UUID(movie["movie_id"])]),
    )
    key = f"sdk-{uuid.uuid4()}"
    accepted = post_event.sync(client=sdk, body=request, idempotency_key=key)
    assert isinstance(accepted, EventAccepted)
    api.events.append(str(accepted.event_id))
    repeat = post_event.sync(client=sdk, body=request, idempotency_key=key)
    assert isinstance(repeat, EventAccepted)
    assert repeat.event_id == accepted.event_id
    conflict = post_event.sync_detailed(
        client=sdk,
        body=EventRequest(
            event_type="watch_later_reminder",
            created_dt=datetime.now(UTC),
            payload=EventPayload(user=[user_id]),
        ),
        idempotency_key=key,
    )
    assert conflict.status_code == 409
    assert isinstance(conflict.parsed, ErrorList)
    assert conflict.parsed.errors[0].loc == ["header", "Idempotency-Key"]

    # A batch: the event again under its key (answered as before), a new one, one refused alone.
    again = EventBatchBatchEvent(
        event_type=request.event_type,
        created_dt=request.created_dt,
        payload=request.payload,
        idempotency_key=key,
    )
    liked = EventBatchBatchEvent(
        event_type="comment_liked", created_dt=datetime.now(UTC), payload=EventPayload(user=[user_id])
    )
    unknown = EventBatchBatchEvent(
        event_type="no_such_workflow", created_dt=datetime.now(UTC), payload=EventPayload(user=[user_id])
    )
    batch = post_events.sync(client=sdk, body=EventBatch(events=[again, liked, unknown]))
    assert isinstance(batch, BatchAccepted)
    replayed, new, refused = batch.results
    assert isinstance(replayed.body, EventAccepted)
    assert isinstance(new.body, EventAccepted)
    assert isinstance(refused.body, ErrorList)
    api.events.append(str(new.body.event_id))
    assert (replayed.status, new.status, refused.status) == (202, 202, 422)
    assert replayed.body.event_id == accepted.event_id
    assert refused.body.errors[0].loc == ["body", "events", 2, "event_type"]

    deadline = time.monotonic() + 60
    while True:
        page = list_notifications.sync(accepted.event_id, client=sdk)
        assert isinstance(page, NotificationPage)
        if page.items and not {item.status for item in page.items} & ON_ITS_WAY:
            break
        assert time.monotonic() < deadline, f"still on its way: {[item.status for item in page.items]}"
        time.sleep(0.5)
    [row] = page.items
    assert (row.channel, row.status) == (Channel.EMAIL, NotificationStatus.SENT)
    view = get_event.sync(accepted.event_id, client=sdk)
    assert isinstance(view, EventView)
    cancelled = cancel_event.sync(accepted.event_id, client=sdk)
    assert isinstance(cancelled, EventCancelled)
    assert cancelled.cancelled == 0  # it was sent: nothing was left to stop

    missing = get_event.sync_detailed(uuid.uuid4(), client=sdk)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, ErrorList)

    suppressed = put_suppression.sync(Channel.EMAIL, contact["email"], client=sdk, body=SuppressionRequest())
    assert isinstance(suppressed, SuppressionView)
    lifted = delete_suppression.sync_detailed(Channel.EMAIL, contact["email"], client=sdk)
    assert (lifted.status_code, lifted.parsed) == (204, None)
    assert delete_topic.sync_detailed(topic, client=sdk).status_code == 204
