"""Topics and events to an audience, against PostgreSQL: through the API and the fan-out steps."""

import uuid
from datetime import UTC, datetime

from notify.adapters.postgres import PostgresStore
from notify.channels import EVENT_CHANNELS, EventType
from tests.integration.conftest import Api
from tests.integration.support import make_user, notification_rows, parse

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def audience_body(topic: str, event_type: EventType = EventType.NEW_EPISODE) -> dict[str, object]:
    return {
        "event_type": str(event_type),
        "created_dt": "2025-03-01T12:00:00+00:00",
        "payload": {"audience": topic, "content": []},
    }


def test_audience_event_reaches_every_subscriber_through_the_api(api: Api, store: PostgresStore) -> None:
    users = [make_user() for _ in range(5)]
    store.upsert_users(users)
    assert api.put("/topics/series:1", {"description": "Series 1"}).status == 201
    changed = api.post(
        "/topics/series:1/subscribers",
        {"add": [str(u.user_id) for u in users[:3]] + [str(uuid.uuid4())]},
    )
    assert changed.status == 200, changed.text
    assert changed.json["added"] == 3
    assert changed.json["subscribers"] == 3
    assert len(changed.json["skipped_users"]) == 1

    accepted = api.post("/events", audience_body("series:1"))

    assert accepted.status == 202, accepted.text
    answer = accepted.json
    assert answer["recipients"] == 3
    assert answer["fan_out"] == {"recipients": 3, "done": 3, "complete": True}
    rows = notification_rows(api.dsn, answer["event_id"])
    expected = {(channel, u.user_id) for u in users[:3] for channel in EVENT_CHANNELS[EventType.NEW_EPISODE]}
    assert rows == expected
    published = {
        (m.transport_type, r.user_id) for m in parse(api.publisher.published) for r in m.payload.user
    }
    assert published == expected
