import pytest

from notify.channels import (
    CONTACT_FIELD,
    EVENT_CHANNELS,
    TIERS_BY_URGENCY,
    Channel,
    EventType,
    Tier,
    all_queue_names,
    queue_name,
    tier_for,
)


@pytest.mark.parametrize(
    ("priority", "tier"),
    [
        (0, Tier.LOW),
        (2, Tier.LOW),
        (3, Tier.NORMAL),
        (6, Tier.NORMAL),
        (7, Tier.HIGH),
        (9, Tier.HIGH),
    ],
)
def test_tier_for_boundaries(priority: int, tier: Tier) -> None:
    assert tier_for(priority) is tier


def test_tier_for_covers_every_priority_in_order() -> None:
    assert [tier_for(p) for p in range(10)] == [Tier.LOW] * 3 + [Tier.NORMAL] * 4 + [Tier.HIGH] * 3


@pytest.mark.parametrize("channel", list(Channel))
@pytest.mark.parametrize("tier", list(Tier))
def test_queue_name_is_prefix_channel_tier(channel: Channel, tier: Tier) -> None:
    assert queue_name(channel, tier) == f"notify-{channel.value}-{tier.value}"
    assert queue_name(channel, tier, prefix="t1") == f"t1-{channel.value}-{tier.value}"


def test_queue_name_examples() -> None:
    assert queue_name(Channel.EMAIL, Tier.HIGH) == "notify-email-high"
    assert queue_name(Channel.SMS, Tier.NORMAL) == "notify-sms-normal"
    assert queue_name(Channel.PUSH, Tier.LOW) == "notify-push-low"


def test_all_queue_names_lists_nine_distinct_queues_by_urgency() -> None:
    names = all_queue_names()
    assert len(names) == len(set(names)) == 9
    assert names[:3] == ["notify-email-high", "notify-email-normal", "notify-email-low"]
    assert TIERS_BY_URGENCY == (Tier.HIGH, Tier.NORMAL, Tier.LOW)


def test_event_channels_table() -> None:
    assert EVENT_CHANNELS == {
        EventType.NEW_EPISODE: (Channel.EMAIL, Channel.SMS, Channel.PUSH),
        EventType.COMMENT_LIKED: (Channel.PUSH, Channel.EMAIL),
        EventType.NEW_RELEASES_PROMO: (Channel.EMAIL,),
        EventType.WATCH_LATER_REMINDER: (Channel.EMAIL, Channel.PUSH),
    }
    assert set(EVENT_CHANNELS) == set(EventType)


def test_contact_field_names_a_recipient_attribute_per_channel() -> None:
    assert CONTACT_FIELD == {Channel.EMAIL: "email", Channel.SMS: "phone", Channel.PUSH: "push_token"}
