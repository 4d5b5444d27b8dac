from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.channel import Channel
from ..types import UNSET, Unset

T = TypeVar("T", bound="StatsItem")


@_attrs_define
class StatsItem:
    """
    Attributes:
        bounce_rate (float):
        bounced (int):
        channel (Channel):
        complained (int):
        complaint_rate (float):
        delivered (int):
        event_type (str):
        sent (int):
        suppressed (int):
        click_rate (float | Unset):  Default: 0.0.
        clicked (int | Unset):  Default: 0.
        open_rate (float | Unset):  Default: 0.0.
        opened (int | Unset):  Default: 0.
    """

    bounce_rate: float
    bounced: int
    channel: Channel
    complained: int
    complaint_rate: float
    delivered: int
    event_type: str
    sent: int
    suppressed: int
    click_rate: float | Unset = 0.0
    clicked: int | Unset = 0
    open_rate: float | Unset = 0.0
    opened: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bounce_rate = self.bounce_rate

        bounced = self.bounced

        channel = self.channel.value

        complained = self.complained

        complaint_rate = self.complaint_rate

        delivered = self.delivered

        event_type = self.event_type

        sent = self.sent

        suppressed = self.suppressed

        click_rate = self.click_rate

        clicked = self.clicked

        open_rate = self.open_rate

        opened = self.opened

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "bounce_rate": bounce_rate,
                "bounced": bounced,
                "channel": channel,
                "complained": complained,
                "complaint_rate": complaint_rate,
                "delivered": delivered,
                "event_type": event_type,
                "sent": sent,
                "suppressed": suppressed,
            }
        )
        if click_rate is not UNSET:
            field_dict["click_rate"] = click_rate
        if clicked is not UNSET:
            field_dict["clicked"] = clicked
        if open_rate is not UNSET:
            field_dict["open_rate"] = open_rate
        if opened is not UNSET:
            field_dict["opened"] = opened

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bounce_rate = d.pop("bounce_rate")

        bounced = d.pop("bounced")

        channel = Channel(d.pop("channel"))

        complained = d.pop("complained")

        complaint_rate = d.pop("complaint_rate")

        delivered = d.pop("delivered")

        event_type = d.pop("event_type")

        sent = d.pop("sent")

        suppressed = d.pop("suppressed")

        click_rate = d.pop("click_rate", UNSET)

        clicked = d.pop("clicked", UNSET)

        open_rate = d.pop("open_rate", UNSET)

        opened = d.pop("opened", UNSET)

        stats_item = cls(
            bounce_rate=bounce_rate,
            bounced=bounced,
            channel=channel,
            complained=complained,
            complaint_rate=complaint_rate,
            delivered=delivered,
            event_type=event_type,
            sent=sent,
            suppressed=suppressed,
            click_rate=click_rate,
            clicked=clicked,
            open_rate=open_rate,
            opened=opened,
        )

        stats_item.additional_properties = d
        return stats_item

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
