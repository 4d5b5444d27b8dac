from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FanOutView")


@_attrs_define
class FanOutView:
    """How far an event's rows are made: `recipients` as counted when it was accepted, `done` the
    recipients fanned out so far (an audience is fanned out in steps).

        Attributes:
            complete (bool):
            done (int):
            recipients (int):
    """

    complete: bool
    done: int
    recipients: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        complete = self.complete

        done = self.done

        recipients = self.recipients

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "complete": complete,
                "done": done,
                "recipients": recipients,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        complete = d.pop("complete")

        done = d.pop("done")

        recipients = d.pop("recipients")

        fan_out_view = cls(
            complete=complete,
            done=done,
            recipients=recipients,
        )

        fan_out_view.additional_properties = d
        return fan_out_view

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
