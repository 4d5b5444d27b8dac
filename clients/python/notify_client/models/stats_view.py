from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.channel_totals import ChannelTotals
    from ..models.stats_item import StatsItem


T = TypeVar("T", bound="StatsView")


@_attrs_define
class StatsView:
    """
    Attributes:
        items (list[StatsItem]):
        since (datetime.datetime):
        totals (ChannelTotals): The window's figures per channel, every channel (a field each: a generated client reads
            them
            typed, where a map keyed by channel loses its keys' type).
        until (datetime.datetime):
    """

    items: list[StatsItem]
    since: datetime.datetime
    totals: ChannelTotals
    until: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        since = self.since.isoformat()

        totals = self.totals.to_dict()

        until = self.until.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "since": since,
                "totals": totals,
                "until": until,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.channel_totals import ChannelTotals  # noqa: PLC0415
        from ..models.stats_item import StatsItem  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = StatsItem.from_dict(items_item_data)

            items.append(items_item)

        since = datetime.datetime.fromisoformat(d.pop("since"))

        totals = ChannelTotals.from_dict(d.pop("totals"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        stats_view = cls(
            items=items,
            since=since,
            totals=totals,
            until=until,
        )

        stats_view.additional_properties = d
        return stats_view

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
