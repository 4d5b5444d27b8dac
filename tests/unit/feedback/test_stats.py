"""stats.delivery_stats on its own: rates from counts, totals per channel, the window's start checked."""

from datetime import UTC, datetime, timedelta

import pytest

from notify.errors import InvalidInput
from notify.feedback.ports import DeliveryCounts
from notify.feedback.stats import delivery_stats, rate

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Counted:
    """A DeliveryStats that answers what it was given and remembers the window it was asked for."""

    def __init__(self, *rows: DeliveryCounts) -> None:
        self.rows = list(rows)
        self.asked: list[tuple[datetime, datetime]] = []

    def delivery_counts(self, since: datetime, until: datetime) -> list[DeliveryCounts]:
        self.asked.append((since, until))
        return self.rows


def test_delivery_stats_rates_are_over_what_was_handed_to_the_provider() -> None:
    counted = Counted(
        DeliveryCounts("email", "new_episode", sent=5, delivered=12, bounced=2, complained=1, suppressed=7)
    )

    view = delivery_stats(NOW - timedelta(hours=1), now=NOW, stats=counted)

    [item] = view.items
    assert (item.sent, item.delivered, item.bounced, item.complained, item.suppressed) == (5, 12, 2, 1, 7)
    assert (item.bounce_rate, item.complaint_rate) == (2 / 20, 1 / 20)
    assert counted.asked == [(NOW - timedelta(hours=1), NOW)]
    assert (view.since, view.until) == (NOW - timedelta(hours=1), NOW)


def test_delivery_stats_totals_sum_each_channel_and_name_every_channel() -> None:
    counted = Counted(
        DeliveryCounts("email", "new_releases_promo", sent=10, bounced=10),
        DeliveryCounts("email", "new_episode", delivered=20, complained=0),
        DeliveryCounts("sms", "comment_liked", sent=3),
    )

    view = delivery_stats(NOW - timedelta(days=1), now=NOW, stats=counted)

    assert [(i.channel, i.event_type) for i in view.items] == [
        ("email", "new_episode"),
        ("email", "new_releases_promo"),
        ("sms", "comment_liked"),
    ]
    email, sms, push = view.totals.email, view.totals.sms, view.totals.push
    assert (email.sent, email.delivered, email.bounced, email.bounce_rate) == (10, 20, 10, 0.25)
    assert (sms.sent, sms.bounce_rate, sms.complaint_rate) == (3, 0.0, 0.0)
    assert push.model_dump() == {
        "sent": 0,
        "delivered": 0,
        "bounced": 0,
        "complained": 0,
        "suppressed": 0,
        "bounce_rate": 0.0,
        "complaint_rate": 0.0,
        # opens and clicks since issue 30 (none here)
        "opened": 0,
        "clicked": 0,
        "open_rate": 0.0,
        "click_rate": 0.0,
    }


def test_delivery_stats_rate_of_nothing_handed_over_is_zero() -> None:
    assert rate(0, 0) == 0.0
    view = delivery_stats(NOW, now=NOW, stats=Counted(DeliveryCounts("push", "new_episode", suppressed=4)))
    assert (view.items[0].suppressed, view.items[0].bounce_rate) == (4, 0.0)


@pytest.mark.parametrize(
    ("since", "words"),
    [(NOW + timedelta(seconds=1), "future"), (datetime(2026, 1, 1), "UTC offset")],
)
def test_delivery_stats_refuses_a_future_or_naive_since_naming_it(since: datetime, words: str) -> None:
    counted = Counted()

    with pytest.raises(InvalidInput) as raised:
        delivery_stats(since, now=NOW, stats=counted)

    [problem] = raised.value.problems
    assert problem.loc == ("query", "since")
    assert words in problem.msg
    assert counted.asked == []
