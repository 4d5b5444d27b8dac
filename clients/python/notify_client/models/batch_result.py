from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.batch_result_status import BatchResultStatus

if TYPE_CHECKING:
    from ..models.error_list import ErrorList
    from ..models.event_accepted import EventAccepted


T = TypeVar("T", bound="BatchResult")


@_attrs_define
class BatchResult:
    """What POST /events would have answered for the event: its status and its body.

    Attributes:
        body (ErrorList | EventAccepted):
        status (BatchResultStatus):
    """

    body: ErrorList | EventAccepted
    status: BatchResultStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.event_accepted import EventAccepted  # noqa: PLC0415

        body: dict[str, Any]
        if isinstance(self.body, EventAccepted):
            body = self.body.to_dict()
        else:
            body = self.body.to_dict()

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "body": body,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.error_list import ErrorList  # noqa: PLC0415
        from ..models.event_accepted import EventAccepted  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_body(data: object) -> ErrorList | EventAccepted:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                body_type_0 = EventAccepted.from_dict(data)

                return body_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            body_type_1 = ErrorList.from_dict(data)

            return body_type_1

        body = _parse_body(d.pop("body"))

        status = BatchResultStatus(d.pop("status"))

        batch_result = cls(
            body=body,
            status=status,
        )

        batch_result.additional_properties = d
        return batch_result

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
