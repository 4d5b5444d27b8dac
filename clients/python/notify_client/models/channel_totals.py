from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.stats_figures import StatsFigures


T = TypeVar("T", bound="ChannelTotals")


@_attrs_define
class ChannelTotals:
    """The window's figures per channel, every channel (a field each: a generated client reads them
    typed, where a map keyed by channel loses its keys' type).

        Attributes:
            email (StatsFigures): Notifications handed to the provider in the window, by their status now (`sent`: sent or
                unconfirmed), and those skipped in it because the address is suppressed. A rate is bounced (or
                complained) over sent + delivered + bounced + complained, 0.0 when that is none.
            push (StatsFigures): Notifications handed to the provider in the window, by their status now (`sent`: sent or
                unconfirmed), and those skipped in it because the address is suppressed. A rate is bounced (or
                complained) over sent + delivered + bounced + complained, 0.0 when that is none.
            sms (StatsFigures): Notifications handed to the provider in the window, by their status now (`sent`: sent or
                unconfirmed), and those skipped in it because the address is suppressed. A rate is bounced (or
                complained) over sent + delivered + bounced + complained, 0.0 when that is none.
    """

    email: StatsFigures
    push: StatsFigures
    sms: StatsFigures
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        email = self.email.to_dict()

        push = self.push.to_dict()

        sms = self.sms.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "email": email,
                "push": push,
                "sms": sms,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.stats_figures import StatsFigures  # noqa: PLC0415

        d = dict(src_dict)
        email = StatsFigures.from_dict(d.pop("email"))

        push = StatsFigures.from_dict(d.pop("push"))

        sms = StatsFigures.from_dict(d.pop("sms"))

        channel_totals = cls(
            email=email,
            push=push,
            sms=sms,
        )

        channel_totals.additional_properties = d
        return channel_totals

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
