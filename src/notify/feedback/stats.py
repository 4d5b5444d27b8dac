"""The numbers an operator watches: per channel and event type, how many notifications went to the
provider in a window and what became of them, how many were not sent because the address is
suppressed, and the bounce and complaint rates (the ones SES reviews an account by)."""

from datetime import datetime

from notify.channels import Channel
from notify.errors import FieldProblem, InvalidInput
from notify.feedback.models import ChannelTotals, StatsFigures, StatsItem, StatsView
from notify.feedback.ports import DeliveryCounts, DeliveryStats

SINCE_LOC = ("query", "since")


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def figures(counts: DeliveryCounts) -> StatsFigures:
    """The counts with their rates: bounced (complained) over those handed to the provider."""
    handed = counts.sent + counts.delivered + counts.bounced + counts.complained
    return StatsFigures(
        sent=counts.sent,
        delivered=counts.delivered,
        bounced=counts.bounced,
        complained=counts.complained,
        suppressed=counts.suppressed,
        bounce_rate=rate(counts.bounced, handed),
        complaint_rate=rate(counts.complained, handed),
        opened=counts.opened,
        clicked=counts.clicked,
        open_rate=rate(counts.opened, handed),
        click_rate=rate(counts.clicked, handed),
    )


def channel_total(channel: Channel, rows: list[DeliveryCounts]) -> DeliveryCounts:
    mine = [row for row in rows if row.channel == channel]
    return DeliveryCounts(
        channel=str(channel),
        event_type="",
        sent=sum(row.sent for row in mine),
        delivered=sum(row.delivered for row in mine),
        bounced=sum(row.bounced for row in mine),
        complained=sum(row.complained for row in mine),
        suppressed=sum(row.suppressed for row in mine),
        opened=sum(row.opened for row in mine),
        clicked=sum(row.clicked for row in mine),
    )


def delivery_stats(since: datetime, *, now: datetime, stats: DeliveryStats) -> StatsView:
    """The figures over [since, now], per channel and event type and per channel; `since` must be an
    aware time not after `now` (InvalidInput naming the query's `since`)."""
    if since.tzinfo is None:
        raise InvalidInput([FieldProblem(SINCE_LOC, "must carry a UTC offset (e.g. Z or +00:00)")])
    if since > now:
        raise InvalidInput([FieldProblem(SINCE_LOC, "must not be in the future")])
    rows = sorted(stats.delivery_counts(since, now), key=lambda row: (row.channel, row.event_type))
    items = [
        StatsItem(channel=Channel(row.channel), event_type=row.event_type, **figures(row).model_dump())
        for row in rows
    ]
    totals = ChannelTotals(**{str(channel): figures(channel_total(channel, rows)) for channel in Channel})
    return StatsView(since=since, until=now, items=items, totals=totals)
