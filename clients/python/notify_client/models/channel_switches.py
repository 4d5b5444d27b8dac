from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ChannelSwitches")


@_attrs_define
class ChannelSwitches:
    """On/off per channel; what is left out is on.

    Attributes:
        email (bool | Unset):  Default: True.
        push (bool | Unset):  Default: True.
        sms (bool | Unset):  Default: True.
    """

    email: bool | Unset = True
    push: bool | Unset = True
    sms: bool | Unset = True

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        push = self.push

        sms = self.sms

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if email is not UNSET:
            field_dict["email"] = email
        if push is not UNSET:
            field_dict["push"] = push
        if sms is not UNSET:
            field_dict["sms"] = sms

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email", UNSET)

        push = d.pop("push", UNSET)

        sms = d.pop("sms", UNSET)

        channel_switches = cls(
            email=email,
            push=push,
            sms=sms,
        )

        return channel_switches
