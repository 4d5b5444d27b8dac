"""deliver_message with recipient controls: each verdict recorded, the order of the rules, caps."""

import itertools
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from notify.bootstrap import control_rules
from notify.channels import Channel, EventType
from notify.delivery.controls import ControlRules, FrequencyCap, Verdict
from notify.delivery.deliver import DeliveryReport
from notify.delivery.models import ChannelSwitches, NotificationMessage, PreferencesDocument, Recipient
from notify.delivery.ports import Rendered
from notify.errors import RetryableError
from notify.feedback.ports import Suppression
from notify.settings import Settings
from notify_dev.delivering import deliver as deliver_with_fakes
from tests.fakes import FakeEventStore, FakeSender
from tests.unit.builders import NOW, message, recipient

LIKE = EventType.COMMENT_LIKED
PROMO = EventType.NEW_RELEASES_PROMO
PROMO_CAP = FrequencyCap(limit=3, window=timedelta(hours=24))
NIGHT_ZONE = "America/Los_Angeles"  # NOW (09:00 UTC) is 02:00 there; 08:00 PDT is 15:00 UTC
NIGHT_ZONE_MORNING = NOW.replace(hour=15)


@dataclass
class StubRenderer:
    calls: list[uuid.UUID] = field(default_factory=list)

    def render(
        self, event_type: str, channel: Channel, user: Recipient, content: Any, version: int = 1
    ) -> Rendered:
        self.calls.append(user.user_id)
        return Rendered(text=str(user.user_id), subject="subject")


def person(address: str, **fields: Any) -> Recipient:
    return recipient(email=address).model_copy(update=fields)


def build(
    users: list[Recipient],
    *,
    event_type: EventType = EventType.NEW_EPISODE,
    priority: int = 5,
    created_dt: datetime = NOW,
) -> NotificationMessage:
    return message(users, event_type=event_type).model_copy(
        update={"priority": priority, "created_dt": created_dt}
    )


def ledger_for(msg: NotificationMessage) -> FakeEventStore:
    ledger = FakeEventStore()
    ledger.add_message(msg)
    return ledger


def deliver(
    msg: NotificationMessage,
    ledger: FakeEventStore,
    sender: FakeSender | None = None,
    *,
    now: datetime = NOW,
    rules: ControlRules | None = None,
    renderer: StubRenderer | None = None,
) -> DeliveryReport:
    return deliver_with_fakes(
        msg,
        ledger,
        sender if sender is not None else FakeSender(),
        renderer if renderer is not None else StubRenderer(),
        now=now,
        rules=rules,
        controls=ledger,
        suppressions=ledger,
    )


def row(
    ledger: FakeEventStore, msg: NotificationMessage, user: Recipient
) -> tuple[str, str | None, datetime | None]:
    stored = ledger.rows[(msg.event_id, msg.transport_type, user.user_id)]
    return stored.status, stored.reason, stored.deliver_after


def opted_out_of(event_type: EventType) -> PreferencesDocument:
    return PreferencesDocument.model_validate({str(event_type): {"email": False}})


# ---- each verdict ------------------------------------------------------------------------------


def test_deliver_message_with_controls_sends_who_passes_every_rule() -> None:
    msg = build([person("a@example.com"), person("b@example.com")])
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    assert [address for address, _ in sender.sent] == ["a@example.com", "b@example.com"]
    assert report.sent == [user.user_id for user in msg.payload.user]
    assert report.held_back == {}
    assert set(ledger.statuses().values()) == {"sent"}


def test_deliver_message_with_controls_expires_a_stale_message() -> None:
    user = person("a@example.com")
    msg = build([user], created_dt=NOW - timedelta(hours=48, seconds=1))
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    assert sender.sent == []
    assert report.sent == []
    assert report.held_back == {user.user_id: Verdict("expired", "stale")}
    assert row(ledger, msg, user) == ("expired", "stale", None)


def test_deliver_message_with_controls_counts_age_per_event_type() -> None:
    rules = replace(control_rules(Settings()), max_age={EventType.NEW_EPISODE: timedelta(minutes=5)})
    user = person("a@example.com")
    fresh, stale = (
        build([user], created_dt=NOW - timedelta(minutes=5)),
        build([user], created_dt=NOW - timedelta(minutes=6)),
    )
    ledger = ledger_for(fresh)
    ledger.add(stale.event_id, Channel.EMAIL, [user.user_id])

    deliver(fresh, ledger, rules=rules)
    deliver(stale, ledger, rules=rules)

    assert row(ledger, fresh, user)[0] == "sent"
    assert row(ledger, stale, user)[:2] == ("expired", "stale")


@pytest.mark.parametrize(
    "document",
    [
        PreferencesDocument(new_episode=ChannelSwitches(email=False)),
        PreferencesDocument(channels=ChannelSwitches(email=False)),
    ],
    ids=["event-type-and-channel", "whole-channel"],
)
def test_deliver_message_with_controls_skips_who_opted_out(document: PreferencesDocument) -> None:
    out, stays = person("out@example.com"), person("in@example.com")
    msg = build([out, stays])
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.preferences[out.user_id] = document

    report = deliver(msg, ledger, sender)

    assert [address for address, _ in sender.sent] == ["in@example.com"]
    assert report.held_back == {out.user_id: Verdict("skipped", "opted_out")}
    assert row(ledger, msg, out) == ("skipped", "opted_out", None)
    assert row(ledger, msg, stays)[0] == "sent"


def test_deliver_message_with_controls_skips_a_suppressed_address_whatever_its_case() -> None:
    bounced, stays = person("Bounced@Example.com"), person("in@example.com")
    msg = build([bounced, stays])
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.suppress([Suppression("email", "bounced@example.com", "hard_bounce", NOW)])
    ledger.suppress([Suppression("sms", "in@example.com", "opted_out_sms", NOW)])  # another channel's list

    report = deliver(msg, ledger, sender)

    assert [address for address, _ in sender.sent] == ["in@example.com"]
    assert report.held_back == {bounced.user_id: Verdict("skipped", "suppressed")}
    assert row(ledger, msg, bounced) == ("skipped", "suppressed", None)


def test_deliver_message_with_controls_ignores_an_opt_out_of_another_type_or_channel() -> None:
    user = person("a@example.com")
    msg = build([user])
    ledger = ledger_for(msg)
    ledger.preferences[user.user_id] = PreferencesDocument(
        new_episode=ChannelSwitches(sms=False, push=False), comment_liked=ChannelSwitches(email=False)
    )

    deliver(msg, ledger)

    assert row(ledger, msg, user)[0] == "sent"


def test_deliver_message_with_controls_defers_inside_quiet_hours_to_their_end() -> None:
    sleeping, awake = person("night@example.com", timezone=NIGHT_ZONE), person("day@example.com")
    msg = build([sleeping, awake])
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    assert [address for address, _ in sender.sent] == ["day@example.com"]
    assert report.held_back == {sleeping.user_id: Verdict("deferred", "quiet_hours", NIGHT_ZONE_MORNING)}
    assert row(ledger, msg, sleeping) == ("deferred", "quiet_hours", NIGHT_ZONE_MORNING)
    assert ledger.rows[(msg.event_id, Channel.EMAIL, sleeping.user_id)].claimed_until is None


def test_deliver_message_with_controls_uses_the_users_own_quiet_hours() -> None:
    user = person("a@example.com")  # UTC, 09:00
    msg = build([user])
    ledger = ledger_for(msg)
    ledger.preferences[user.user_id] = PreferencesDocument.model_validate(
        {"quiet_hours": {"start": "08:30", "end": "09:30"}}
    )

    deliver(msg, ledger)

    assert row(ledger, msg, user) == ("deferred", "quiet_hours", NOW.replace(minute=30))


def test_deliver_message_with_controls_sends_at_night_with_quiet_hours_off() -> None:
    user = person("a@example.com", timezone=NIGHT_ZONE)
    msg = build([user])
    ledger = ledger_for(msg)
    ledger.preferences[user.user_id] = PreferencesDocument(quiet_hours=None)

    deliver(msg, ledger)

    assert row(ledger, msg, user)[0] == "sent"


@pytest.mark.parametrize(("priority", "status"), [(9, "sent"), (7, "sent"), (6, "deferred"), (0, "deferred")])
def test_deliver_message_with_controls_lets_only_high_tier_through_quiet_hours(
    priority: int, status: str
) -> None:
    user = person("a@example.com", timezone=NIGHT_ZONE)
    msg = build([user], priority=priority)
    ledger = ledger_for(msg)

    deliver(msg, ledger)

    assert row(ledger, msg, user)[0] == status


def test_deliver_message_with_controls_holds_a_like_for_its_digest_window() -> None:
    user = person("a@example.com")
    msg = build([user], event_type=LIKE)
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    window_end = NOW + timedelta(minutes=10)
    assert sender.sent == []
    assert report.held_back == {user.user_id: Verdict("held", "digest", window_end)}
    assert row(ledger, msg, user) == ("held", "digest", window_end)


def test_deliver_message_with_controls_sends_a_digest_without_holding_it_again() -> None:
    user = person("a@example.com", digest_count=5)
    msg = build([user], event_type=LIKE)
    ledger, sender = ledger_for(msg), FakeSender()

    report = deliver(msg, ledger, sender)

    assert report.sent == [user.user_id]
    assert len(sender.sent) == 1


def test_deliver_message_with_controls_holds_for_the_configured_window() -> None:
    user = person("a@example.com")
    msg = build([user])  # a new episode
    ledger = ledger_for(msg)

    deliver(
        msg,
        ledger,
        rules=replace(
            control_rules(Settings()), digest_windows={EventType.NEW_EPISODE: timedelta(minutes=3)}
        ),
    )

    assert row(ledger, msg, user) == ("held", "digest", NOW + timedelta(minutes=3))


# ---- frequency caps ----------------------------------------------------------------------------


def test_deliver_message_with_controls_skips_over_the_frequency_cap() -> None:
    capped, fresh = person("capped@example.com"), person("fresh@example.com")
    msg = build([capped, fresh], event_type=PROMO)
    ledger, sender = ledger_for(msg), FakeSender()
    for hours in (1, 2, 23):
        earlier = NOW - timedelta(hours=hours)
        ledger.reservations.append((capped.user_id, PROMO, Channel.EMAIL, earlier, uuid.uuid4()))
    rolled_out = NOW - timedelta(hours=24)
    ledger.reservations.append((fresh.user_id, PROMO, Channel.EMAIL, rolled_out, uuid.uuid4()))

    report = deliver(msg, ledger, sender)

    assert [address for address, _ in sender.sent] == ["fresh@example.com"]
    assert report.held_back == {capped.user_id: Verdict("skipped", "frequency_cap")}
    assert row(ledger, msg, capped) == ("skipped", "frequency_cap", None)
    assert ledger.reservations.count((fresh.user_id, PROMO, Channel.EMAIL, NOW, msg.event_id)) == 1
    assert ledger.reservations.count((capped.user_id, PROMO, Channel.EMAIL, NOW, msg.event_id)) == 0


def test_deliver_message_provider_outage_retries_until_the_max_age_then_expires() -> None:
    user = person("a@example.com")
    msg = build([user], priority=8)  # a new episode matters for 48 h; high tier: no quiet hours
    ledger = ledger_for(msg)
    down = FakeSender(fail_addresses={"a@example.com": RetryableError("ses: ServiceUnavailable")})
    [stored] = ledger.rows.values()
    tries = []
    now = NOW
    while stored.status != "expired":
        deliver(msg, ledger, down, now=now)
        tries.append(now)
        if stored.status == "deferred":
            assert stored.deliver_after is not None
            now, stored.status = stored.deliver_after, "queued"  # the tick, once deliver_after has come

    assert down.sent == []
    assert (stored.status, stored.reason) == ("expired", "stale")
    assert tries[-2] - NOW <= timedelta(hours=48) < tries[-1] - NOW
    # the waits grow (10 s, 10 s, …, half the age) and stop growing at 15 minutes
    waits = [later - earlier for earlier, later in itertools.pairwise(tries)]
    assert waits[0] == timedelta(seconds=10)
    assert waits == sorted(waits)
    assert max(waits) == timedelta(minutes=15)
    assert len(tries) < 250


def test_deliver_message_with_controls_retry_reuses_its_cap_reservation() -> None:
    user = person("again@example.com")
    msg = build([user], event_type=PROMO)
    ledger = ledger_for(msg)
    for hours in (1, 2):
        ledger.reservations.append(
            (user.user_id, PROMO, Channel.EMAIL, NOW - timedelta(hours=hours), uuid.uuid4())
        )
    failing = FakeSender(errors=[RetryableError("throttled")] * 3)  # every try of this attempt

    deliver(msg, ledger, failing)
    [row] = ledger.rows.values()
    assert row.status == "deferred"
    row.status = "queued"  # the tick, once deliver_after has come
    retried = FakeSender()
    deliver(msg, ledger, retried)

    assert [address for address, _ in retried.sent] == ["again@example.com"]
    assert len(ledger.reservations) == 3  # two earlier sends and this one, reserved once


def test_deliver_message_with_controls_caps_only_the_capped_type_and_channel() -> None:
    user = person("a@example.com")
    ledger = FakeEventStore()
    ledger.reservations.extend((user.user_id, PROMO, Channel.EMAIL, NOW, uuid.uuid4()) for _ in range(3))
    msg = build([user])  # a new episode: no cap
    ledger.add(msg.event_id, Channel.EMAIL, [user.user_id])

    deliver(msg, ledger)

    assert row(ledger, msg, user)[0] == "sent"
    assert len(ledger.reservations) == 3


def test_deliver_message_with_controls_reserves_only_sends_that_pass_the_other_rules() -> None:
    opted_out, sleeping, sent = (
        person("out@example.com"),
        person("night@example.com", timezone=NIGHT_ZONE),
        person("in@example.com"),
    )
    msg = build([opted_out, sleeping, sent], event_type=PROMO)
    ledger = ledger_for(msg)
    ledger.preferences[opted_out.user_id] = opted_out_of(PROMO)

    deliver(msg, ledger)

    assert [who for who, *_ in ledger.reservations] == [sent.user_id]


def test_deliver_message_with_controls_does_not_count_an_expired_send() -> None:
    user = person("a@example.com")
    stale = build([user], event_type=PROMO, created_dt=NOW - timedelta(hours=73))
    ledger = ledger_for(stale)

    deliver(stale, ledger)

    assert row(ledger, stale, user)[:2] == ("expired", "stale")
    assert ledger.reservations == []


# ---- the order of the rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "age", "opted_out", "timezone", "expected"),
    [
        # stale, opted out, in quiet hours, a like: expiry is checked first
        (LIKE, timedelta(hours=7), True, NIGHT_ZONE, Verdict("expired", "stale")),
        # opted out and in quiet hours: never deferred
        (LIKE, timedelta(0), True, NIGHT_ZONE, Verdict("skipped", "opted_out")),
        # a like in quiet hours: deferred, not held for a digest
        (LIKE, timedelta(0), False, NIGHT_ZONE, Verdict("deferred", "quiet_hours", NIGHT_ZONE_MORNING)),
        # a stale like never enters a digest
        (LIKE, timedelta(hours=7), False, "UTC", Verdict("expired", "stale")),
        # a stale promotion is not counted against the cap, nor is an opted-out one
        (PROMO, timedelta(hours=73), False, "UTC", Verdict("expired", "stale")),
        (PROMO, timedelta(0), True, "UTC", Verdict("skipped", "opted_out")),
        # a promotion in quiet hours is deferred before the cap is consulted
        (PROMO, timedelta(0), False, NIGHT_ZONE, Verdict("deferred", "quiet_hours", NIGHT_ZONE_MORNING)),
    ],
    ids=[
        "expired-before-opted-out",
        "opted-out-before-quiet-hours",
        "quiet-hours-before-digest",
        "expired-before-digest",
        "expired-before-cap",
        "opted-out-before-cap",
        "quiet-hours-before-cap",
    ],
)
def test_deliver_message_with_controls_applies_the_rules_in_order(
    event_type: EventType, age: timedelta, opted_out: bool, timezone: str, expected: Verdict
) -> None:
    user = person("a@example.com", timezone=timezone)
    msg = build([user], event_type=event_type, created_dt=NOW - age)
    ledger = ledger_for(msg)
    if opted_out:
        ledger.preferences[user.user_id] = opted_out_of(event_type)
    ledger.reservations.extend(
        (user.user_id, PROMO, Channel.EMAIL, NOW, uuid.uuid4()) for _ in range(3)
    )  # at the cap

    report = deliver(msg, ledger)

    assert report.held_back == {user.user_id: expected}
    assert row(ledger, msg, user) == (expected.status, expected.reason, expected.deliver_after)
    assert len(ledger.reservations) == 3


# ---- the report and the rest of the path -------------------------------------------------------


def test_deliver_message_with_controls_reports_what_it_held_back_and_renders_only_the_rest() -> None:
    users = [
        person("stale@example.com"),
        person("out@example.com"),
        person("night@example.com", timezone=NIGHT_ZONE),
        person("capped@example.com"),
        person("sent@example.com"),
    ]
    stale_msg = build(users[:1], event_type=PROMO, created_dt=NOW - timedelta(hours=80))
    msg = build(users[1:], event_type=PROMO)
    ledger = ledger_for(msg)
    ledger.add(stale_msg.event_id, Channel.EMAIL, [users[0].user_id])
    ledger.preferences[users[1].user_id] = opted_out_of(PROMO)
    ledger.reservations.extend((users[3].user_id, PROMO, Channel.EMAIL, NOW, uuid.uuid4()) for _ in range(3))
    renderer, sender = StubRenderer(), FakeSender()

    stale_report = deliver(stale_msg, ledger, sender, renderer=renderer)
    report = deliver(msg, ledger, sender, renderer=renderer)

    assert stale_report.held_back == {users[0].user_id: Verdict("expired", "stale")}
    assert report.held_back == {
        users[1].user_id: Verdict("skipped", "opted_out"),
        users[2].user_id: Verdict("deferred", "quiet_hours", NIGHT_ZONE_MORNING),
        users[3].user_id: Verdict("skipped", "frequency_cap"),
    }
    assert report.sent == [users[4].user_id]
    assert renderer.calls == [users[4].user_id]
    assert [address for address, _ in sender.sent] == ["sent@example.com"]


def test_deliver_message_with_controls_screens_only_recipients_it_claimed() -> None:
    user = person("a@example.com")
    msg = build([user], event_type=PROMO)
    ledger, sender = ledger_for(msg), FakeSender()

    deliver(msg, ledger, sender)
    again = deliver(msg, ledger, sender)  # a duplicate delivery of the same message

    assert again.already_handled == [user.user_id]
    assert again.held_back == {}
    assert len(sender.sent) == 1
    assert len(ledger.reservations) == 1


def test_deliver_message_with_controls_uses_the_default_rules_when_given_none() -> None:
    user = person("a@example.com")
    msg = build([user], created_dt=NOW - timedelta(hours=49))
    ledger = ledger_for(msg)

    report = deliver_with_fakes(msg, ledger, FakeSender(), StubRenderer(), now=NOW, controls=ledger)

    assert report.held_back == {user.user_id: Verdict("expired", "stale")}


def test_deliver_message_without_controls_applies_no_rules() -> None:
    user = person("a@example.com", timezone=NIGHT_ZONE)
    msg = build([user], event_type=LIKE, created_dt=NOW - timedelta(days=3))
    ledger, sender = ledger_for(msg), FakeSender()
    ledger.preferences[user.user_id] = opted_out_of(LIKE)

    report = deliver_with_fakes(msg, ledger, sender, StubRenderer(), now=NOW)

    assert report.sent == [user.user_id]
    assert report.held_back == {}
    assert len(sender.sent) == 1


def test_deliver_message_with_controls_still_fails_a_recipient_without_a_contact() -> None:
    no_address, user = person(""), person("a@example.com")
    msg = build([no_address, user])
    ledger = ledger_for(msg)

    report = deliver(msg, ledger)

    assert report.failed == [no_address.user_id]
    assert report.sent == [user.user_id]
    assert ledger.rows[(msg.event_id, Channel.EMAIL, no_address.user_id)].reason == "no_contact"
