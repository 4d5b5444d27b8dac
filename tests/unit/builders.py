"""Builders shared by the unit tests: sample messages, recipients and the Lambda events in events/."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from notify.channels import Channel, EventType, QueueRouter
from notify.delivery.models import Content, MessagePayload, NotificationMessage, Recipient
from notify.tick import TickPolicy

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json, safe to modify."""
    data: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data


def recipient(
    *,
    email: str | None = None,
    phone: str | None = None,
    push_token: str | None = None,
    locale: str = "en",
    first_name: str | None = "Alice",
) -> Recipient:
    return Recipient.model_validate(
        {
            "user_id": uuid.uuid4(),
            "first_name": first_name,
            "email": email,
            "phone": phone,
            "push_token": push_token,
            "locale": locale,
        }
    )


def content(title: str = "The Long Night", season: int | None = 2, episode: int | None = 5) -> Content:
    return Content(
        movie_id=uuid.uuid4(), title=title, season=season, episode=episode, release_date=date(2025, 3, 14)
    )


def message(
    users: list[Recipient],
    *,
    channel: Channel = Channel.EMAIL,
    event_type: EventType = EventType.NEW_EPISODE,
    movies: list[Content] | None = None,
) -> NotificationMessage:
    return NotificationMessage(
        message_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        event_type=event_type,
        created_dt=NOW,
        transport_type=channel,
        priority=5,
        payload=MessagePayload(user=users, content=movies if movies is not None else [content()]),
    )


def messages_of(sqs_event: dict[str, Any]) -> list[NotificationMessage]:
    return [NotificationMessage.model_validate_json(record["body"]) for record in sqs_event["Records"]]


def tick_policy(
    *,
    outbox_grace_s: int = 30,
    max_lateness: timedelta = timedelta(hours=1),
    router: QueueRouter | None = None,
    chunk_size: int = 250,
    batch_size: int = 1000,
    reservations_kept_for: timedelta | None = None,
    fan_out_step: int = 10_000,
) -> TickPolicy:
    """The tick's policy as the settings' defaults make it, with what a test changes."""
    return TickPolicy(
        router=router or QueueRouter("notify"),
        outbox_grace_s=outbox_grace_s,
        max_lateness=max_lateness,
        chunk_size=chunk_size,
        batch_size=batch_size,
        reservations_kept_for=reservations_kept_for,
        fan_out_step=fan_out_step,
    )
