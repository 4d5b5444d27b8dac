from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.condition import Condition


T = TypeVar("T", bound="WaitStep")


@_attrs_define
class WaitStep:
    """Wait until the condition holds (woken early by the feedback or engagement it waits for), at
    most `timeout_seconds`; the run goes on either way.

        Attributes:
            timeout_seconds (int):
            type_ (Literal['wait']):
            until (Condition): True when the notification of the send step `ref` is in `any` of the states, or, with
                `not`, in none of them.
    """

    timeout_seconds: int
    type_: Literal["wait"]
    until: Condition

    def to_dict(self) -> dict[str, Any]:
        timeout_seconds = self.timeout_seconds

        type_ = self.type_

        until = self.until.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "timeout_seconds": timeout_seconds,
                "type": type_,
                "until": until,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.condition import Condition  # noqa: PLC0415

        d = dict(src_dict)
        timeout_seconds = d.pop("timeout_seconds")

        type_ = cast(Literal["wait"], d.pop("type"))
        if type_ != "wait":
            raise ValueError(f"type must match const 'wait', got '{type_}'")

        until = Condition.from_dict(d.pop("until"))

        wait_step = cls(
            timeout_seconds=timeout_seconds,
            type_=type_,
            until=until,
        )

        return wait_step
