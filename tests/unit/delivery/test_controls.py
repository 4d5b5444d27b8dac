"""Send-time rules: expiry, preferences, quiet hours, digests, in that order."""

from datetime import UTC, datetime, time, timedelta

import pytest

from notify.bootstrap import control_rules
from notify.channels import Channel, EventType, Tier
from notify.delivery.controls import (
    DEFAULT_QUIET_HOURS,
    ControlRules,
    Preferences,
    QuietHours,
    Verdict,
    WorkflowRules,
    decide,
    preferences_from_document,
    quiet_hours_end,
)
from notify.delivery.models import PreferencesDocument
from notify.settings import Settings
from notify.workflows import Controls, KeptVersions, WorkflowDefinition
from tests.fakes import FakeEventStore

RULES = control_rules(Settings())
NOON_MOSCOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


def verdict(**overrides: object) -> Verdict:
    arguments: dict[str, object] = {
        "event_type": EventType.NEW_EPISODE,
        "channel": Channel.EMAIL,
        "tier": Tier.NORMAL,
        "due_at": NOON_MOSCOW,
        "now": NOON_MOSCOW,
        "user_timezone": "Europe/Moscow",
        "preferences": Preferences(),
        "rules": RULES,
    } | overrides
    return decide(**arguments)  # type: ignore[arg-type]


def test_decide_sends_by_default() -> None:
    assert verdict().status == "send"


@pytest.mark.parametrize(
    ("event_type", "age", "status"),
    [
        (EventType.COMMENT_LIKED, timedelta(hours=6, seconds=1), "expired"),
        (EventType.NEW_EPISODE, timedelta(hours=47), "send"),
        (EventType.NEW_EPISODE, timedelta(hours=48, seconds=1), "expired"),
        (EventType.WATCH_LATER_REMINDER, timedelta(hours=25), "expired"),
        (EventType.NEW_RELEASES_PROMO, timedelta(hours=71), "send"),
    ],
)
def test_decide_expires_stale_events_by_type(event_type: EventType, age: timedelta, status: str) -> None:
    result = verdict(event_type=event_type, due_at=NOON_MOSCOW - age, in_digest=True)
    assert result.status == status


def test_decide_checks_expiry_before_preferences_and_digests() -> None:
    stale_like = verdict(
        event_type=EventType.COMMENT_LIKED,
        due_at=NOON_MOSCOW - timedelta(hours=7),
        preferences=Preferences(channels_off=frozenset({Channel.EMAIL})),
    )
    assert (stale_like.status, stale_like.reason) == ("expired", "stale")


def test_decide_skips_an_opted_out_channel_or_event_type() -> None:
    off_channel = verdict(preferences=Preferences(channels_off=frozenset({Channel.EMAIL})))
    off_type = verdict(
        preferences=Preferences(event_channels_off=frozenset({(EventType.NEW_EPISODE, Channel.EMAIL)}))
    )
    other_type = verdict(
        event_type=EventType.WATCH_LATER_REMINDER,
        preferences=Preferences(event_channels_off=frozenset({(EventType.NEW_EPISODE, Channel.EMAIL)})),
    )
    assert (off_channel.status, off_channel.reason) == ("skipped", "opted_out")
    assert (off_type.status, off_type.reason) == ("skipped", "opted_out")
    assert other_type.status == "send"


def test_decide_defers_inside_quiet_hours_to_their_end() -> None:
    late_evening = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    result = verdict(now=late_evening, due_at=late_evening)
    assert (result.status, result.reason) == ("deferred", "quiet_hours")
    assert result.deliver_after == datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 08:00 in Moscow


def test_decide_lets_high_tier_through_quiet_hours() -> None:
    late_evening = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)
    assert verdict(now=late_evening, due_at=late_evening, tier=Tier.HIGH).status == "send"


def test_decide_holds_likes_for_a_digest_window() -> None:
    result = verdict(event_type=EventType.COMMENT_LIKED, channel=Channel.PUSH)
    assert (result.status, result.deliver_after) == ("held", NOON_MOSCOW + timedelta(minutes=10))
    assert verdict(event_type=EventType.COMMENT_LIKED, channel=Channel.PUSH, in_digest=True).status == "send"


def test_quiet_hours_end_across_midnight() -> None:
    before_midnight = datetime(2026, 11, 24, 20, 30, tzinfo=UTC)  # 23:30 MSK
    after_midnight = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 01:30 MSK on the 25th
    morning = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 08:00 MSK: the window is over
    expected = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
    assert quiet_hours_end(before_midnight, "Europe/Moscow", DEFAULT_QUIET_HOURS) == expected
    assert quiet_hours_end(after_midnight, "Europe/Moscow", DEFAULT_QUIET_HOURS) == expected
    assert quiet_hours_end(morning, "Europe/Moscow", DEFAULT_QUIET_HOURS) is None


def test_quiet_hours_end_across_the_autumn_dst_change() -> None:
    # Berlin goes from CEST (+2) to CET (+1) at 03:00 on 2026-10-25; 08:00 CET is 07:00Z.
    night = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 23:00 CEST
    assert quiet_hours_end(night, "Europe/Berlin", DEFAULT_QUIET_HOURS) == datetime(
        2026, 10, 25, 7, 0, tzinfo=UTC
    )


def test_quiet_hours_end_across_the_spring_dst_change() -> None:
    # Berlin goes from CET (+1) to CEST (+2) at 02:00 on 2026-03-29; 08:00 CEST is 06:00Z.
    night = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 CET
    assert quiet_hours_end(night, "Europe/Berlin", DEFAULT_QUIET_HOURS) == datetime(
        2026, 3, 29, 6, 0, tzinfo=UTC
    )


def test_quiet_hours_within_one_day() -> None:
    siesta = QuietHours(start=time(13, 0), end=time(15, 0))
    assert quiet_hours_end(NOON_MOSCOW + timedelta(hours=1, minutes=30), "Europe/Moscow", siesta) == (
        NOON_MOSCOW + timedelta(hours=3)
    )
    assert quiet_hours_end(NOON_MOSCOW, "Europe/Moscow", siesta) is None


def test_quiet_hours_of_zero_length_are_none() -> None:
    never = QuietHours(start=time(22, 0), end=time(22, 0))
    assert quiet_hours_end(NOON_MOSCOW, "UTC", never) is None


# ---- workflows: a version's controls, and per-workflow preferences -------------------------------


def test_a_workflows_controls_become_its_rules() -> None:
    controls = Controls(
        digest_window_seconds=300, max_age_seconds=60, frequency_caps={"sms": (2, 3600)}, quiet_hours=False
    )
    rules = ControlRules.of_workflow("match_starts", controls)

    stale = verdict(event_type="match_starts", due_at=NOON_MOSCOW - timedelta(seconds=61), rules=rules)
    held = verdict(event_type="match_starts", rules=rules)
    cap = rules.cap_for("match_starts", Channel.SMS)

    assert stale.status == "expired"
    assert (held.status, held.deliver_after) == ("held", NOON_MOSCOW + timedelta(seconds=300))
    assert cap is not None
    assert (cap.limit, cap.window) == (2, timedelta(hours=1))
    assert rules.cap_for("match_starts", Channel.EMAIL) is None


def test_a_workflow_without_quiet_hours_goes_out_inside_the_recipients() -> None:
    midnight = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)  # 00:00 in Moscow: inside 22:00-08:00
    urgent = ControlRules.of_workflow("match_starts", Controls(quiet_hours=False))
    polite = ControlRules.of_workflow("match_starts", Controls())

    assert verdict(event_type="match_starts", now=midnight, due_at=midnight, rules=urgent).status == "send"
    assert (
        verdict(event_type="match_starts", now=midnight, due_at=midnight, rules=polite).status == "deferred"
    )


def test_preferences_switch_a_workflow_off_by_its_key_and_a_built_in_either_way() -> None:
    document = PreferencesDocument.model_validate(
        {
            "workflows": {"match_starts": {"push": False}, "new_episode": {"sms": False}},
            "new_episode": {"email": False},
        }
    )
    preferences = preferences_from_document(document)

    assert not preferences.allows("match_starts", Channel.PUSH)
    assert preferences.allows("match_starts", Channel.EMAIL)
    assert not preferences.allows(EventType.NEW_EPISODE, Channel.SMS)  # the map
    assert not preferences.allows(EventType.NEW_EPISODE, Channel.EMAIL)  # its own field
    assert preferences.allows(EventType.NEW_EPISODE, Channel.PUSH)


def test_workflow_rules_are_each_versions_own() -> None:
    store = FakeEventStore()
    store.save_version(
        "new_episode",
        WorkflowDefinition.model_validate(
            {
                "steps": [{"type": "send", "channel": "sms"}],
                "templates": {"sms": {"en": {"text": "x"}}},
                "controls": {"max_age_seconds": 60},
            }
        ),
        NOON_MOSCOW,
    )
    book = WorkflowRules(KeptVersions(store))

    assert book.rules_for("new_episode", 1).max_age == {"new_episode": timedelta(hours=48)}
    assert book.rules_for("new_episode", 2).max_age == {"new_episode": timedelta(seconds=60)}
