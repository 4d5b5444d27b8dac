from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EventCancelled")


@_attrs_define
class EventCancelled:
    """
    Attributes:
        cancelled (int):
        event_id (UUID):
        in_flight (int):
        sent (int):
        status (Literal['cancelled'] | Unset):  Default: 'cancelled'.
    """

    cancelled: int
    event_id: UUID
    in_flight: int
    sent: int
    status: Literal["cancelled"] | Unset = "cancelled"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cancelled = self.cancelled

        event_id = str(self.event_id)

        in_flight = self.in_flight

        sent = self.sent

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cancelled": cancelled,
                "event_id": event_id,
                "in_flight": in_flight,
                "sent": sent,
            }
        )
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cancelled = d.pop("cancelled")

        event_id = UUID(d.pop("event_id"))

        in_flight = d.pop("in_flight")

        sent = d.pop("sent")

        status = cast(Literal["cancelled"] | Unset, d.pop("status", UNSET))
        if status != "cancelled" and not isinstance(status, Unset):
            raise ValueError(f"status must match const 'cancelled', got '{status}'")

        event_cancelled = cls(
            cancelled=cancelled,
            event_id=event_id,
            in_flight=in_flight,
            sent=sent,
            status=status,
        )

        event_cancelled.additional_properties = d
        return event_cancelled

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
