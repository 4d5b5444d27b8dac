"""The feedback capability's models: the suppression list and the delivery stats, as the API shows them."""

from datetime import datetime

from pydantic import (
    BaseModel,
    Field,
)

from notify.channels import Channel
from notify.models import StrictModel

# ---- /suppressions ----------------------------------------------------------------------------


class SuppressionView(BaseModel):
    channel: Channel
    address: str
    reason: str
    created_at: datetime


class SuppressionPage(BaseModel):
    items: list[SuppressionView]
    next_cursor: str | None


class SuppressionRequest(StrictModel):
    reason: str = Field(default="operator", min_length=1, max_length=100)


# ---- /stats ------------------------------------------------------------------------------------


class StatsFigures(BaseModel):
    """Notifications handed to the provider in the window, by their status now (`sent`: sent or
    unconfirmed), and those skipped in it because the address is suppressed. A rate is bounced (or
    complained) over sent + delivered + bounced + complained, 0.0 when that is none."""

    sent: int
    delivered: int
    bounced: int
    complained: int
    suppressed: int
    bounce_rate: float
    complaint_rate: float
    opened: int = 0
    clicked: int = 0
    open_rate: float = 0.0  # opened over those handed to the provider (where opens are tracked)
    click_rate: float = 0.0


class StatsItem(StatsFigures):
    channel: Channel
    event_type: str


class ChannelTotals(BaseModel):
    """The window's figures per channel, every channel (a field each: a generated client reads them
    typed, where a map keyed by channel loses its keys' type)."""

    email: StatsFigures
    sms: StatsFigures
    push: StatsFigures


class StatsView(BaseModel):
    since: datetime
    until: datetime
    items: list[StatsItem]  # per channel and event type, those with any notification
    totals: ChannelTotals
