"""Recipient controls (issue #7) against the real PostgreSQL, on a controllable clock.

Each test drives the real send path: an event accepted by the ingest at a given `now`, its
messages taken from a FakePublisher and delivered by `deliver_message` with the store as
ledger and controls, the tick releasing what quiet hours deferred and digest windows held,
and the released messages delivered in turn. Outcomes are read where a client reads them,
GET /events/{id}/notifications, and where they land, the FakeSender.
"""

import base64
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from notify.adapters.email import mime_message
from notify.adapters.postgres import PostgresStore
from notify.bootstrap import control_rules
from notify.channels import Channel, EventType, QueueRouter
from notify.delivery.controls import ControlRules
from notify.delivery.deliver import DeliveryReport
from notify.delivery.dispatch import DispatchPolicy
from notify.delivery.models import NotificationMessage, PreferencesDocument
from notify.delivery.ports import Rendered
from notify.delivery.rendering import TemplateRenderer
from notify.delivery.unsubscribe_links import FixedKey, Unsubscribe, UnsubscribeLinks, sign_token
from notify.errors import PermanentError
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import DirectoryMovie, DirectoryUser, EventRequest
from notify.feedback.ports import Suppression
from notify.settings import Settings
from notify.tick import TickReport, run_tick
from notify_dev.delivering import deliver
from tests.fakes import FakeSender
from tests.integration.conftest import Api, MakeApi
from tests.integration.support import event_body, make_movie, make_user, parse
from tests.unit.builders import tick_policy

pytestmark = pytest.mark.integration

SECRET = "controls-test-secret-0123456789"
BASE_URL = "https://cinema.example/api/v1"
SOURCE = "notifications@cinema.example"
CHUNK = 250
GRACE_S = 30
EPISODE = EventType.NEW_EPISODE
LIKE = EventType.COMMENT_LIKED
PROMO = EventType.NEW_RELEASES_PROMO
HIGH_PRIORITY = 8
DEFAULTS = PreferencesDocument().model_dump(mode="json")


def at(text: str) -> datetime:
    """'2025-03-10 09:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def email_only(**fields: Any) -> DirectoryUser:
    return make_user(phone=False, push=False, **fields)


@dataclass(frozen=True)
class Outcome:
    """A notification as GET /events/{id}/notifications shows it."""

    status: str
    reason: str | None
    deliver_after: datetime | None
    digested_into: uuid.UUID | None


# Outcomes written once per message, so that statement counts do not depend on timing.
ONE_WRITE_PER_MESSAGE = DispatchPolicy(concurrency=4, flush_every=1000, flush_interval_s=60)


class Service:
    """The service on a simulated clock: POST with accept_event, delivery with deliver_message,
    the tick with run_tick (waiting=store), each given `now`; the API for reading and preferences.

    Messages are delivered in the order they were published, each once."""

    def __init__(self, store: PostgresStore, api: Api, rules: ControlRules | None = None) -> None:
        self.store = store
        self.api = api
        self.publisher = api.publisher
        self.rules = rules if rules is not None else control_rules(Settings())
        self.sender = FakeSender()
        self.renderer = TemplateRenderer(
            links=UnsubscribeLinks(base_url=BASE_URL, keys=FixedKey(SECRET), valid_for=timedelta(days=30))
        )
        self.taken = 0
        self.movie = make_movie("Северное сияние")
        store.upsert_movies([self.movie])

    def users(self, *users: DirectoryUser) -> list[DirectoryUser]:
        self.store.upsert_users(users)
        return list(users)

    def post(
        self,
        users: Sequence[DirectoryUser],
        *,
        now: datetime,
        event_type: EventType = EPISODE,
        created: datetime | None = None,
        content: Sequence[DirectoryMovie] | None = None,
        **fields: Any,
    ) -> uuid.UUID:
        """Accept an event at `now`, created at `created` (default: `now`); its event id."""
        movies = [self.movie] if content is None else content
        body = event_body(
            [user.user_id for user in users],
            event_type,
            [movie.movie_id for movie in movies],
            created_dt=(created or now).isoformat(),
            **fields,
        )
        accepted = accept_event(
            EventRequest.model_validate(body),
            now=now,
            ports=IngestPorts(
                events=self.store, directory=self.store, outbox=self.store, publisher=self.publisher
            ),
            policy=IngestPolicy(router=QueueRouter("notify"), chunk_size=CHUNK),
        )
        return accepted.event_id

    def take(self) -> list[NotificationMessage]:
        """The messages published since the last take."""
        fresh = self.publisher.published[self.taken :]
        self.taken = len(self.publisher.published)
        return parse(fresh)

    def deliver_one(self, message: NotificationMessage, now: datetime) -> DeliveryReport:
        return deliver(
            message,
            self.store,
            self.sender,
            self.renderer,
            now=now,
            rules=self.rules,
            controls=self.store,
            dispatch=ONE_WRITE_PER_MESSAGE,
        )

    def deliver(self, now: datetime) -> list[DeliveryReport]:
        """Deliver every message published since the last delivery."""
        return [self.deliver_one(message, now) for message in self.take()]

    def tick(self, now: datetime) -> TickReport:
        return run_tick(
            now=now,
            schedules=self.store,
            outbox=self.store,
            publisher=self.publisher,
            waiting=self.store,
            policy=tick_policy(outbox_grace_s=GRACE_S, chunk_size=CHUNK),
        )

    def outcomes(self, event_id: uuid.UUID) -> dict[tuple[Channel, uuid.UUID], Outcome]:
        answer = self.api.get(f"/events/{event_id}/notifications", query={"limit": "1000"})
        assert answer.status == 200, answer.text
        page = answer.json
        assert page["next_cursor"] is None
        return {
            (Channel(item["channel"]), uuid.UUID(item["user_id"])): Outcome(
                status=item["status"],
                reason=item["reason"],
                deliver_after=datetime.fromisoformat(item["deliver_after"])
                if item["deliver_after"]
                else None,
                digested_into=uuid.UUID(item["digested_into"]) if item["digested_into"] else None,
            )
            for item in page["items"]
        }

    def statuses(self, event_id: uuid.UUID) -> dict[tuple[Channel, uuid.UUID], tuple[str, str | None]]:
        return {key: (o.status, o.reason) for key, o in self.outcomes(event_id).items()}

    def sent_to(self) -> list[str]:
        """The addresses that got something, in order."""
        return [address for address, _ in self.sender.sent]

    def mail_to(self, user: DirectoryUser) -> list[Rendered]:
        return [rendered for address, rendered in self.sender.sent if address == user.email]

    def put_preferences(self, user: DirectoryUser, document: dict[str, Any]) -> dict[str, Any]:
        answer = self.api.put(f"/users/{user.user_id}/preferences", document)
        assert answer.status == 200, answer.text
        stored: dict[str, Any] = answer.json
        return stored

    def preferences(self, user: DirectoryUser) -> dict[str, Any]:
        answer = self.api.get(f"/users/{user.user_id}/preferences")
        assert answer.status == 200, answer.text
        document: dict[str, Any] = answer.json
        return document


@pytest.fixture
def api(make_api: MakeApi, pg_dsn: str) -> Iterator[Api]:
    """The API with the test secret; the control tables (not emptied by `store`) emptied after."""
    yield make_api(unsubscribe_secret=SECRET, public_base_url=BASE_URL)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE user_preferences, frequency_reservations")


@pytest.fixture
def svc(store: PostgresStore, api: Api) -> Service:
    return Service(store, api)


def by_email(user: DirectoryUser) -> tuple[Channel, uuid.UUID]:
    return (Channel.EMAIL, user.user_id)


SENT = ("sent", None)
OPTED_OUT = ("skipped", "opted_out")
OVER_CAP = ("skipped", "frequency_cap")
EXPIRED = ("expired", "stale")


# ---- GET/PUT /users/{id}/preferences ---------------------------------------------------------------


def test_preferences_put_replaces_the_document_and_fills_the_defaults(svc: Service) -> None:
    (user,) = svc.users(make_user())
    document = {
        "new_releases_promo": {"email": False},
        "channels": {"sms": False},
        "quiet_hours": {"start": "23:30", "end": "07:15"},
    }

    stored = svc.put_preferences(user, document)

    expected = {
        **DEFAULTS,
        "new_releases_promo": {"email": False, "sms": True, "push": True},
        "channels": {"email": True, "sms": False, "push": True},
        "quiet_hours": {"start": "23:30", "end": "07:15"},
    }
    assert stored == expected
    assert svc.preferences(user) == expected
    # A PUT replaces: what the new document leaves out goes back to the default.
    assert svc.put_preferences(user, {"comment_liked": {"push": False}}) == {
        **DEFAULTS,
        "comment_liked": {"email": True, "sms": True, "push": False},
    }
    assert svc.preferences(user)["new_releases_promo"] == {"email": True, "sms": True, "push": True}
    assert svc.put_preferences(user, {"quiet_hours": None})["quiet_hours"] is None
    assert svc.preferences(user)["quiet_hours"] is None


def test_preferences_of_a_user_who_never_set_any_are_the_defaults(svc: Service) -> None:
    (user,) = svc.users(make_user())

    document = svc.preferences(user)

    assert document == DEFAULTS
    assert document["quiet_hours"] == {"start": "22:00", "end": "08:00"}
    assert all(document[name] == {"email": True, "sms": True, "push": True} for name in EventType)


def test_preferences_of_an_unknown_user_are_404(svc: Service) -> None:
    unknown = uuid.uuid4()

    assert svc.api.get(f"/users/{unknown}/preferences").status == 404
    assert svc.api.put(f"/users/{unknown}/preferences", {"channels": {"sms": False}}).status == 404
    assert svc.store.get_preferences(unknown) is None


@pytest.mark.parametrize(
    "document",
    [
        {"quiet_hours": {"start": "25:00", "end": "08:00"}},
        {"quiet_hours": {"start": "22:00", "end": "8:00"}},
        {"quiet_hours": {"start": "22:00"}},
        {"channels": {"email": "sometimes"}},
        {"channels": {"fax": False}},
        {"new_movies": {"email": False}},
    ],
)
def test_preferences_put_refuses_a_bad_document_with_422(svc: Service, document: dict[str, Any]) -> None:
    (user,) = svc.users(make_user())
    svc.put_preferences(user, {"channels": {"push": False}})

    answer = svc.api.put(f"/users/{user.user_id}/preferences", document)

    assert answer.status == 422, answer.text
    assert answer.json["errors"]
    assert svc.preferences(user)["channels"] == {"email": True, "sms": True, "push": False}


# ---- opting out --------------------------------------------------------------------------------


def test_delivery_skips_who_opted_out_by_preference_and_sends_the_rest(svc: Service) -> None:
    no_episode_mail, no_sms, everything = svc.users(make_user(), make_user(), make_user())
    svc.put_preferences(no_episode_mail, {"new_episode": {"email": False}})
    svc.put_preferences(no_sms, {"channels": {"sms": False}})
    now = at("2025-03-01 12:00")

    event_id = svc.post([no_episode_mail, no_sms, everything], now=now)
    svc.deliver(now)

    assert svc.statuses(event_id) == {
        (Channel.EMAIL, no_episode_mail.user_id): OPTED_OUT,
        (Channel.SMS, no_episode_mail.user_id): SENT,
        (Channel.PUSH, no_episode_mail.user_id): SENT,
        (Channel.EMAIL, no_sms.user_id): SENT,
        (Channel.SMS, no_sms.user_id): OPTED_OUT,
        (Channel.PUSH, no_sms.user_id): SENT,
        (Channel.EMAIL, everything.user_id): SENT,
        (Channel.SMS, everything.user_id): SENT,
        (Channel.PUSH, everything.user_id): SENT,
    }
    assert Counter(svc.sent_to()) == Counter(
        [
            no_episode_mail.phone,
            no_episode_mail.push_token,
            no_sms.email,
            no_sms.push_token,
            everything.email,
            everything.phone,
            everything.push_token,
        ]
    )


def test_delivery_skips_a_suppressed_address_on_its_channel_only(svc: Service) -> None:
    bounced, everything = svc.users(make_user(), make_user())
    assert bounced.email is not None
    svc.store.suppress([Suppression("email", bounced.email.upper(), "hard_bounce", at("2025-03-01 11:00"))])
    now = at("2025-03-01 12:00")

    event_id = svc.post([bounced, everything], now=now)
    svc.deliver(now)

    statuses = svc.statuses(event_id)
    assert statuses[(Channel.EMAIL, bounced.user_id)] == ("skipped", "suppressed")
    assert statuses[(Channel.SMS, bounced.user_id)] == SENT
    assert statuses[(Channel.EMAIL, everything.user_id)] == SENT
    assert bounced.email not in svc.sent_to()
    assert bounced.phone in svc.sent_to()


def test_delivery_applies_a_preference_changed_after_the_event_was_posted(svc: Service) -> None:
    changes_mind, stays = svc.users(email_only(), email_only())
    posted = at("2025-03-01 12:00")
    event_id = svc.post([changes_mind, stays], now=posted, event_type=PROMO)

    svc.put_preferences(changes_mind, {"new_releases_promo": {"email": False}})
    svc.deliver(posted + timedelta(minutes=1))

    assert svc.statuses(event_id) == {by_email(changes_mind): OPTED_OUT, by_email(stays): SENT}
    assert svc.sent_to() == [stays.email]


def _token_of(rendered: Rendered) -> str:
    assert rendered.unsubscribe_url is not None
    link = urlsplit(rendered.unsubscribe_url)
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{BASE_URL}/unsubscribe"
    (token,) = parse_qs(link.query)["token"]
    return token


def _mime(address: str, rendered: Rendered) -> Message:
    return message_from_bytes(mime_message(SOURCE, address, rendered), policy=default_policy)


def test_unsubscribe_link_opts_out_of_that_event_type_only(svc: Service) -> None:
    user, other = svc.users(email_only(locale="ru"), email_only())
    now = at("2025-03-01 12:00")
    svc.post([user, other], now=now, event_type=PROMO)
    svc.deliver(now)

    (mail,) = svc.mail_to(user)
    assert mail.unsubscribe_url is not None
    assert mail.unsubscribe_url in mail.text
    assert mail.html is not None
    assert mail.unsubscribe_url in mail.html
    assert user.email is not None
    headers = _mime(user.email, mail)
    assert headers["To"] == user.email
    assert headers["List-Unsubscribe"] == f"<{mail.unsubscribe_url}>"
    assert headers["List-Unsubscribe"].startswith("<https://")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = _token_of(mail)

    page = svc.api.get("/unsubscribe", query={"token": token})
    assert page.status == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "new releases" in page.text
    assert 'method="post"' in page.text
    assert svc.preferences(user) == DEFAULTS  # the page alone changes nothing (link scanners)

    # What a mailbox provider sends for a one-click unsubscribe (RFC 8058).
    done = svc.api.request(
        "POST",
        "/unsubscribe",
        query={"token": token},
        raw_body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status == 200, done.text
    assert done.headers["content-type"].startswith("text/html")
    assert svc.preferences(user) == {
        **DEFAULTS,
        "new_releases_promo": {"email": False, "sms": True, "push": True},
    }
    assert svc.preferences(other) == DEFAULTS

    later = now + timedelta(hours=1)
    promo_id = svc.post([user, other], now=later, event_type=PROMO)
    episode_id = svc.post([user], now=later, event_type=EPISODE)
    svc.sender.sent.clear()
    svc.deliver(later)

    assert svc.statuses(promo_id) == {by_email(user): OPTED_OUT, by_email(other): SENT}
    assert svc.statuses(episode_id) == {by_email(user): SENT}
    assert Counter(svc.sent_to()) == Counter([user.email, other.email])


def _forged(user: DirectoryUser) -> str:
    return sign_token(
        Unsubscribe(user.user_id, PROMO),
        secret="not-the-service-secret-at-all",
        now=datetime.now(UTC),
        valid_for=timedelta(days=1),
    )


def _altered(user: DirectoryUser) -> str:
    """A genuine token for someone else with this user's id put into its payload."""
    genuine = sign_token(
        Unsubscribe(uuid.uuid4(), PROMO), secret=SECRET, now=datetime.now(UTC), valid_for=timedelta(days=1)
    )
    payload, signature = genuine.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields["u"] = str(user.user_id)
    changed = base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode()).rstrip(b"=")
    return f"{changed.decode()}.{signature}"


def _expired(user: DirectoryUser) -> str:
    return sign_token(
        Unsubscribe(user.user_id, PROMO),
        secret=SECRET,
        now=datetime.now(UTC) - timedelta(days=31),
        valid_for=timedelta(days=30),
    )


def _garbage(user: DirectoryUser) -> str:
    return f"{user.user_id}"


@pytest.mark.parametrize("make_token", [_forged, _altered, _expired, _garbage])
def test_unsubscribe_refuses_a_bad_token_with_400_and_changes_nothing(
    svc: Service, make_token: Callable[[DirectoryUser], str]
) -> None:
    (user,) = svc.users(email_only())
    svc.put_preferences(user, {"channels": {"sms": False}})
    before = svc.preferences(user)
    token = make_token(user)

    page = svc.api.get("/unsubscribe", query={"token": token})
    post = svc.api.request("POST", "/unsubscribe", query={"token": token})

    assert (page.status, post.status) == (400, 400), (page.text, post.text)
    assert post.json["errors"][0]["loc"] == ["query", "token"]
    assert svc.preferences(user) == before
    now = at("2025-03-01 12:00")
    event_id = svc.post([user], now=now, event_type=PROMO)
    svc.deliver(now)
    assert svc.statuses(event_id) == {by_email(user): SENT}


# ---- quiet hours -------------------------------------------------------------------------------


def test_quiet_hours_defer_across_midnight_to_the_local_end_and_the_tick_sends_then(svc: Service) -> None:
    moscow, london = svc.users(
        email_only(timezone="Europe/Moscow", locale="ru"), email_only(timezone="Europe/London")
    )
    before_midnight = at("2025-03-01 20:30")  # 23:30 in Moscow, 20:30 in London
    after_midnight = at("2025-03-01 22:30")  # 01:30 in Moscow, 22:30 in London
    local_end = at("2025-03-02 05:00")  # 08:00 in Moscow

    first = svc.post([moscow, london], now=before_midnight)
    svc.deliver(before_midnight)
    second = svc.post([moscow], now=after_midnight)
    svc.deliver(after_midnight)

    assert svc.outcomes(first) == {
        by_email(moscow): Outcome("deferred", "quiet_hours", local_end, None),
        by_email(london): Outcome("sent", None, None, None),
    }
    assert svc.outcomes(second) == {by_email(moscow): Outcome("deferred", "quiet_hours", local_end, None)}
    assert svc.sent_to() == [london.email]

    assert svc.tick(local_end - timedelta(minutes=1)).released == 0
    assert svc.take() == []
    assert svc.tick(local_end).released == 2
    svc.deliver(local_end)

    assert svc.statuses(first)[by_email(moscow)] == SENT
    assert svc.statuses(second)[by_email(moscow)] == SENT
    assert svc.sent_to() == [london.email, moscow.email, moscow.email]
    assert svc.tick(local_end + timedelta(minutes=1)).released == 0


@pytest.mark.parametrize(
    ("posted", "local_end"),
    [
        # Autumn: Berlin goes from CEST (+2) to CET (+1) at 03:00 on 26 October 2025;
        # 22:00 to 08:00 local is 11 hours that night.
        (at("2025-10-25 21:00"), at("2025-10-26 07:00")),  # 23:00 CEST
        (at("2025-10-26 00:30"), at("2025-10-26 07:00")),  # 02:30 CEST, the first of the repeated hour
        (at("2025-10-26 01:30"), at("2025-10-26 07:00")),  # 02:30 CET, the second
        # Spring: CET (+1) to CEST (+2) at 02:00 on 30 March 2025; the night lasts 9 hours.
        (at("2025-03-29 21:30"), at("2025-03-30 06:00")),  # 22:30 CET
        (at("2025-03-30 00:59"), at("2025-03-30 06:00")),  # 01:59 CET, just before the skipped hour
        (at("2025-03-30 01:00"), at("2025-03-30 06:00")),  # 03:00 CEST, just after it
    ],
    ids=[
        "autumn-evening",
        "autumn-first-0230",
        "autumn-second-0230",
        "spring-evening",
        "spring-before-gap",
        "spring-after-gap",
    ],
)
def test_quiet_hours_follow_a_daylight_saving_change(
    svc: Service, posted: datetime, local_end: datetime
) -> None:
    (berlin,) = svc.users(email_only(timezone="Europe/Berlin"))

    event_id = svc.post([berlin], now=posted)
    svc.deliver(posted)

    assert svc.outcomes(event_id) == {by_email(berlin): Outcome("deferred", "quiet_hours", local_end, None)}
    # An hour early would be 08:00 on the wrong side of the change.
    assert svc.tick(local_end - timedelta(seconds=1)).released == 0
    assert svc.take() == []
    assert svc.tick(local_end).released == 1
    svc.deliver(local_end)
    assert svc.statuses(event_id) == {by_email(berlin): SENT}
    assert svc.sent_to() == [berlin.email]


def test_quiet_hours_do_not_hold_high_tier_notifications(svc: Service) -> None:
    (moscow,) = svc.users(email_only(timezone="Europe/Moscow"))
    night = at("2025-03-01 23:00")  # 02:00 in Moscow

    urgent = svc.post([moscow], now=night, priority=HIGH_PRIORITY)
    normal = svc.post([moscow], now=night, priority=5)
    svc.deliver(night)

    assert svc.statuses(urgent) == {by_email(moscow): SENT}
    assert svc.statuses(normal) == {by_email(moscow): ("deferred", "quiet_hours")}
    assert svc.sent_to() == [moscow.email]


def test_quiet_hours_follow_the_preferences_or_are_off(svc: Service) -> None:
    off, custom, default = svc.users(email_only(), email_only(), email_only())
    svc.put_preferences(off, {"quiet_hours": None})
    svc.put_preferences(custom, {"quiet_hours": {"start": "13:00", "end": "15:30"}})
    night, afternoon = at("2025-03-01 23:00"), at("2025-03-02 14:00")

    at_night = svc.post([off, custom, default], now=night)
    svc.deliver(night)
    in_the_afternoon = svc.post([off, custom, default], now=afternoon)
    svc.deliver(afternoon)

    assert svc.outcomes(at_night) == {
        by_email(off): Outcome("sent", None, None, None),
        by_email(custom): Outcome("sent", None, None, None),
        by_email(default): Outcome("deferred", "quiet_hours", at("2025-03-02 08:00"), None),
    }
    assert svc.outcomes(in_the_afternoon) == {
        by_email(off): Outcome("sent", None, None, None),
        by_email(custom): Outcome("deferred", "quiet_hours", at("2025-03-02 15:30"), None),
        by_email(default): Outcome("sent", None, None, None),
    }


# ---- digests -----------------------------------------------------------------------------------


def test_digest_folds_five_likes_into_one_message_with_the_plural(svc: Service) -> None:
    ru, en = svc.users(
        email_only(timezone="Europe/Moscow", locale="ru", first_name="Аня"),
        email_only(timezone="UTC", locale="en", first_name="Ann"),
    )
    start = at("2025-03-01 12:00")
    likes = []
    for minute in range(5):
        moment = start + timedelta(minutes=minute)
        likes.append(svc.post([ru, en], now=moment, event_type=LIKE))
        svc.deliver(moment)
    window_end = start + timedelta(minutes=10)

    for event_id in likes:
        assert svc.outcomes(event_id) == {
            by_email(ru): Outcome("held", "digest", window_end, None),
            by_email(en): Outcome("held", "digest", window_end, None),
        }
    assert svc.sent_to() == []
    assert svc.tick(window_end - timedelta(seconds=1)).released == 0
    assert svc.take() == []

    assert svc.tick(window_end).released == 2  # one digest per recipient
    svc.deliver(window_end)

    representative = likes[-1]  # the latest like stands for the group
    assert svc.statuses(representative) == {by_email(ru): SENT, by_email(en): SENT}
    for event_id in likes[:-1]:
        assert svc.outcomes(event_id) == {
            by_email(ru): Outcome("digested", "digest", None, representative),
            by_email(en): Outcome("digested", "digest", None, representative),
        }
    (ru_mail,) = svc.mail_to(ru)
    (en_mail,) = svc.mail_to(en)
    assert ru_mail.subject == "5 человек оценили ваш комментарий к «Северное сияние»"
    assert "5 человек оценили" in ru_mail.text
    assert en_mail.subject == "5 people liked your comment on «Северное сияние»"
    assert len(svc.sender.sent) == 2
    assert svc.tick(window_end + timedelta(minutes=1)).released == 0


def test_digest_window_is_set_per_event_type(store: PostgresStore, api: Api) -> None:
    svc = Service(
        store, api, replace(control_rules(Settings()), digest_windows={LIKE: timedelta(minutes=30)})
    )
    (user,) = svc.users(email_only(locale="ru"))
    start = at("2025-03-01 12:00")
    for minute in (0, 5):
        svc.post([user], now=start + timedelta(minutes=minute), event_type=LIKE)
        svc.deliver(start + timedelta(minutes=minute))
    episode = svc.post([user], now=start, event_type=EPISODE)
    svc.deliver(start)

    assert svc.statuses(episode) == {by_email(user): SENT}  # no window for new episodes
    assert svc.tick(start + timedelta(minutes=10)).released == 0
    assert svc.tick(start + timedelta(minutes=30)).released == 1
    svc.deliver(start + timedelta(minutes=30))
    subjects = [mail.subject or "" for mail in svc.mail_to(user)]
    assert len(subjects) == 2
    assert subjects[1].startswith("2 человека оценили")


def test_digest_leaves_out_a_stale_like_which_expires(svc: Service) -> None:
    (user,) = svc.users(email_only(locale="en"))
    start = at("2025-03-01 12:00")
    fresh = [svc.post([user], now=start + timedelta(minutes=m), event_type=LIKE) for m in range(3)]
    # A like from a backlog: created 7 hours ago (the limit is 6), delivered inside the window.
    stale = svc.post(
        [user], now=start + timedelta(minutes=4), event_type=LIKE, created=start - timedelta(hours=7)
    )
    svc.deliver(start + timedelta(minutes=4))

    assert svc.statuses(stale) == {by_email(user): EXPIRED}
    svc.tick(start + timedelta(minutes=14))
    svc.deliver(start + timedelta(minutes=14))

    (mail,) = svc.mail_to(user)
    assert mail.subject is not None
    assert mail.subject.startswith("3 people liked")
    assert svc.statuses(stale) == {by_email(user): EXPIRED}
    assert svc.outcomes(fresh[0])[by_email(user)].digested_into == fresh[-1]
    assert svc.statuses(fresh[-1]) == {by_email(user): SENT}


def test_digest_of_likes_without_content_is_one_message(svc: Service) -> None:
    (user,) = svc.users(email_only())
    start = at("2025-03-01 12:00")
    likes = [
        svc.post([user], now=start + timedelta(minutes=m), event_type=LIKE, content=[]) for m in range(3)
    ]
    svc.deliver(start + timedelta(minutes=2))

    assert svc.tick(start + timedelta(minutes=12)).released == 1
    svc.deliver(start + timedelta(minutes=12))

    assert [svc.statuses(event_id)[by_email(user)] for event_id in likes] == [
        ("digested", "digest"),
        ("digested", "digest"),
        SENT,
    ]
    (mail,) = svc.mail_to(user)
    assert "3 people liked" in mail.text


def test_digest_groups_only_notifications_of_the_same_event_type(store: PostgresStore, api: Api) -> None:
    svc = Service(
        store,
        api,
        replace(
            control_rules(Settings()),
            digest_windows={LIKE: timedelta(minutes=10), EPISODE: timedelta(minutes=10)},
        ),
    )
    (user,) = svc.users(email_only())
    start = at("2025-03-01 12:00")
    likes = [svc.post([user], now=start + timedelta(minutes=m), event_type=LIKE) for m in (0, 1)]
    episodes = [svc.post([user], now=start + timedelta(minutes=m), event_type=EPISODE) for m in (2, 3)]
    svc.deliver(start + timedelta(minutes=3))

    assert svc.tick(start + timedelta(minutes=13)).released == 2
    svc.deliver(start + timedelta(minutes=13))

    assert svc.outcomes(likes[0])[by_email(user)].digested_into == likes[1]
    assert svc.outcomes(episodes[0])[by_email(user)].digested_into == episodes[1]
    assert svc.statuses(likes[1]) == {by_email(user): SENT}
    assert svc.statuses(episodes[1]) == {by_email(user): SENT}
    subjects = sorted(rendered.subject or "" for rendered in svc.mail_to(user))
    assert len(subjects) == 2
    assert subjects[0].startswith("2 people liked")


# ---- frequency caps ----------------------------------------------------------------------------


def test_frequency_cap_holds_for_concurrent_senders(svc: Service, pg_dsn: str) -> None:
    users = svc.users(*(email_only() for _ in range(20)))
    now = at("2025-03-01 12:00")
    events = [svc.post(users, now=now, event_type=PROMO) for _ in range(8)]
    messages = svc.take()
    assert len(messages) == len(events)
    start = threading.Barrier(len(messages))
    errors: list[BaseException] = []

    def deliver(message: NotificationMessage) -> None:
        try:
            start.wait(timeout=30)
            svc.deliver_one(message, now)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(message,)) for message in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Counter(svc.sent_to()) == Counter({user.email: 3 for user in users})
    per_user = Counter[tuple[uuid.UUID, tuple[str, str | None]]]()
    for event_id in events:
        for (_, user_id), status in svc.statuses(event_id).items():
            per_user[(user_id, status)] += 1
    for user in users:
        assert per_user[(user.user_id, SENT)] == 3
        assert per_user[(user.user_id, OVER_CAP)] == 5
    with psycopg.connect(pg_dsn) as conn:
        counted = conn.execute(
            "SELECT user_id, count(*) FROM frequency_reservations GROUP BY user_id"
        ).fetchall()
    assert dict(counted) == {user.user_id: 3 for user in users}


def test_frequency_cap_window_rolls_and_counts_only_its_event_type(svc: Service) -> None:
    (user,) = svc.users(email_only())
    start = at("2025-03-01 12:00")
    first = [svc.post([user], now=start + timedelta(hours=h), event_type=PROMO) for h in (0, 1, 2)]
    svc.deliver(start + timedelta(hours=2))  # all three reserved at start + 2 h
    window_end = start + timedelta(hours=26)

    fourth = svc.post([user], now=window_end - timedelta(minutes=1), event_type=PROMO)
    episode = svc.post([user], now=window_end - timedelta(minutes=1), event_type=EPISODE)
    svc.deliver(window_end - timedelta(minutes=1))
    fifth = svc.post([user], now=window_end, event_type=PROMO)
    svc.deliver(window_end)

    assert [svc.statuses(event_id)[by_email(user)] for event_id in first] == [SENT, SENT, SENT]
    assert svc.statuses(fourth) == {by_email(user): OVER_CAP}
    assert svc.statuses(episode) == {by_email(user): SENT}  # no cap on the others
    assert svc.statuses(fifth) == {by_email(user): SENT}  # 24 hours on, the window has room again
    assert len(svc.sent_to()) == 5


def test_frequency_cap_skips_an_opted_out_or_expired_send_without_counting_it(
    svc: Service, pg_dsn: str
) -> None:
    opted_out, user = svc.users(email_only(), email_only())
    svc.put_preferences(opted_out, {"new_releases_promo": {"email": False}})
    now = at("2025-03-01 12:00")
    stale = svc.post([user], now=now, event_type=PROMO, created=now - timedelta(hours=73))
    events = [svc.post([opted_out, user], now=now, event_type=PROMO) for _ in range(3)]
    svc.deliver(now)

    assert svc.statuses(stale) == {by_email(user): EXPIRED}
    assert [svc.statuses(event_id) for event_id in events] == [
        {by_email(opted_out): OPTED_OUT, by_email(user): SENT}
    ] * 3
    with psycopg.connect(pg_dsn) as conn:
        counted = conn.execute("SELECT user_id, count(*) FROM frequency_reservations GROUP BY user_id")
        assert dict(counted.fetchall()) == {user.user_id: 3}


def test_frequency_cap_gives_back_the_slot_of_a_send_the_provider_rejected(svc: Service, pg_dsn: str) -> None:
    (user,) = svc.users(email_only())
    assert user.email is not None
    now = at("2025-03-01 12:00")
    svc.sender.fail_addresses[user.email] = PermanentError("address rejected")
    rejected = svc.post([user], now=now, event_type=PROMO)
    svc.deliver(now)
    del svc.sender.fail_addresses[user.email]
    later = [svc.post([user], now=now, event_type=PROMO) for _ in range(4)]
    svc.deliver(now)

    assert svc.statuses(rejected) == {by_email(user): ("failed", "rejected")}
    assert [svc.statuses(event_id)[by_email(user)] for event_id in later] == [SENT, SENT, SENT, OVER_CAP]
    assert svc.sent_to() == [user.email] * 3
    with psycopg.connect(pg_dsn) as conn:
        counted = conn.execute(
            "SELECT event_id FROM frequency_reservations WHERE user_id = %s", (user.user_id,)
        )
        assert sorted(row[0] for row in counted) == sorted(later[:3])


# ---- stale-event expiry -------------------------------------------------------------------------


def test_expiry_of_an_immediate_backlog_counts_from_created_dt(svc: Service) -> None:
    users = svc.users(make_user(), make_user(), make_user())
    created = at("2025-03-01 08:30")
    delivered = created + timedelta(hours=49)  # 09:30 on 3 March, outside quiet hours

    too_old = svc.post(users, now=delivered, created=created)
    in_time = svc.post(users, now=delivered, created=created + timedelta(hours=2))
    svc.deliver(delivered)

    assert set(svc.statuses(too_old).values()) == {EXPIRED}
    assert len(svc.statuses(too_old)) == 9
    assert set(svc.statuses(in_time).values()) == {SENT}
    assert len(svc.sender.sent) == 9
    # The limit per event type: a like of 6 h 1 min is stale, a reminder of 23 h is not.
    like = svc.post(
        users[:1], now=delivered, created=delivered - timedelta(hours=6, minutes=1), event_type=LIKE
    )
    reminder = svc.post(
        users[:1],
        now=delivered,
        created=delivered - timedelta(hours=23),
        event_type=EventType.WATCH_LATER_REMINDER,
    )
    svc.deliver(delivered)
    assert set(svc.statuses(like).values()) == {EXPIRED}
    assert set(svc.statuses(reminder).values()) == {SENT}


def test_expiry_of_a_scheduled_occurrence_counts_from_its_due_time(svc: Service, pg_dsn: str) -> None:
    early, late = svc.users(email_only(), email_only())
    posted = at("2025-03-01 08:30")
    due = at("2025-03-01 18:30")
    delayed = svc.post([early], now=posted, start_dt=due.isoformat())
    recurring = svc.post([late], now=posted, schedule="30 18 * * *", timezone="UTC")
    assert svc.tick(due).occurrences_sent == 2
    occurrences = {message.payload.user[0].user_id: message for message in svc.take()}
    assert {message.created_dt for message in occurrences.values()} == {due}

    # 47 hours after it was due (57 after the POST): sent. 49 hours after: expired.
    svc.deliver_one(occurrences[early.user_id], due + timedelta(hours=47))
    svc.deliver_one(occurrences[late.user_id], due + timedelta(hours=49))

    assert svc.statuses(occurrences[early.user_id].event_id) == {by_email(early): SENT}
    assert svc.statuses(occurrences[late.user_id].event_id) == {by_email(late): EXPIRED}
    assert svc.sent_to() == [early.email]
    assert {delayed, recurring}.isdisjoint(message.event_id for message in occurrences.values())


def test_cancelling_a_schedule_stops_its_deferred_notifications(svc: Service) -> None:
    (user,) = svc.users(email_only())
    posted = at("2025-03-01 12:00")
    due = at("2025-03-01 23:00")  # inside the default quiet hours
    svc.post([user], now=posted, event_type=PROMO, schedule="0 23 * * *", timezone="UTC")
    (schedule,) = svc.api.get("/schedules").json["items"]
    svc.tick(due)
    (occurrence,) = svc.take()
    svc.deliver_one(occurrence, due)
    assert svc.statuses(occurrence.event_id) == {by_email(user): ("deferred", "quiet_hours")}

    assert svc.api.request("DELETE", f"/schedules/{schedule['schedule_id']}").status == 204
    morning = at("2025-03-02 08:00")

    assert svc.tick(morning).released == 0
    assert svc.take() == []
    assert svc.statuses(occurrence.event_id) == {by_email(user): ("cancelled", "schedule_cancelled")}
    assert svc.sent_to() == []


# ---- the rules are checked in bulk --------------------------------------------------------------


@dataclass
class StatementLog:
    statements: list[str]

    def count(self, *, without: str | None = None) -> int:
        return sum(1 for text in self.statements if without is None or without not in text)

    def matching(self, fragment: str) -> int:
        return sum(1 for text in self.statements if fragment in text)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> StatementLog:
    """Every SQL statement sent through a psycopg connection (not the pool's empty health checks)."""
    log = StatementLog([])
    real_execute = psycopg.Connection.execute

    def counting(self: psycopg.Connection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else str(query)
        if text.strip():
            log.statements.append(" ".join(text.split()))
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", counting)
    return log


def _mixed_audience(svc: Service, size: int, now: datetime) -> list[DirectoryUser]:
    """Users of whom a quarter opted out of promotions, a quarter is in its quiet hours
    (Auckland, 01:00 at noon UTC) and a quarter has had its three promotions today."""
    users = svc.users(
        *(email_only(timezone="Pacific/Auckland" if n % 4 == 1 else "UTC") for n in range(size))
    )
    for user in users[0::4]:
        svc.put_preferences(user, {"new_releases_promo": {"email": False}})
    for user in users[3::4]:
        for _ in range(3):
            svc.post([user], now=now - timedelta(hours=1), event_type=PROMO)
    svc.deliver(now - timedelta(hours=1))
    return users


def test_rules_cost_a_fixed_number_of_statements_per_message(svc: Service, statements: StatementLog) -> None:
    now = at("2025-03-01 12:00")
    cost: dict[int, tuple[int, int]] = {}
    for size in (4, 200):
        users = _mixed_audience(svc, size, now)
        event_id = svc.post(users, now=now, event_type=PROMO)
        (message,) = svc.take()
        statements.statements.clear()

        report = svc.deliver_one(message, now)

        cost[size] = (statements.count(), statements.matching("WITH outcome AS"))
        outcomes = Counter(svc.statuses(event_id).values())
        assert outcomes == {
            OPTED_OUT: size // 4,
            ("deferred", "quiet_hours"): size // 4,
            SENT: size // 4,
            OVER_CAP: size // 4,
        }
        assert len(report.sent) == size // 4
    # Outcomes are written in batches (here one: a batch holds up to 1000); with the rules a
    # message costs a constant: claim, preferences, cap lock, cap reservation, verdicts,
    # outcomes, and the check that none of its recipients is left unfinished.
    assert cost == {4: (7, 1), 200: (7, 1)}


def test_tick_releases_waiting_notifications_with_a_fixed_number_of_statements(
    svc: Service, statements: StatementLog
) -> None:
    morning = at("2025-03-02 08:00")
    cost: dict[int, int] = {}
    for size in (2, 300):
        users = svc.users(*(email_only() for _ in range(size)))
        for n, user in enumerate(users):  # likes held for a digest, a window per recipient
            svc.post([user], now=morning - timedelta(hours=20, minutes=n % 3), event_type=LIKE)
        svc.deliver(morning - timedelta(hours=20))
        deferred = svc.post(users, now=morning - timedelta(hours=9))  # 23:00: quiet hours
        svc.deliver(morning - timedelta(hours=9))
        statements.statements.clear()

        report = svc.tick(morning)

        cost[size] = statements.count()
        assert report.released == 2 * size  # each user's deferred episode and digest of likes
        released = svc.take()
        assert sum(len(message.payload.user) for message in released) == 2 * size
        assert {
            message.payload.user[0].digest_count for message in released if message.event_type is LIKE
        } == {1}
        assert set(svc.statuses(deferred).values()) == {("queued", "quiet_hours")}
    assert cost[2] == cost[300], cost
