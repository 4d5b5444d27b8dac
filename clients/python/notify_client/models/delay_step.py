from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="DelayStep")


@_attrs_define
class DelayStep:
    """
    Attributes:
        seconds (int):
        type_ (Literal['delay']):
    """

    seconds: int
    type_: Literal["delay"]

    def to_dict(self) -> dict[str, Any]:
        seconds = self.seconds

        type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "seconds": seconds,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        seconds = d.pop("seconds")

        type_ = cast(Literal["delay"], d.pop("type"))
        if type_ != "delay":
            raise ValueError(f"type must match const 'delay', got '{type_}'")

        delay_step = cls(
            seconds=seconds,
            type_=type_,
        )

        return delay_step
