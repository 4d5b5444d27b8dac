from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.workflow_state import WorkflowState

T = TypeVar("T", bound="WorkflowSummary")


@_attrs_define
class WorkflowSummary:
    """
    Attributes:
        built_in (bool):
        description (None | str):
        key (str):
        state (WorkflowState): Active: events of it are accepted. Archived (DELETE): new events of it are refused (422);
            a PUT
            makes it active again.
        updated_at (datetime.datetime):
        version (int):
    """

    built_in: bool
    description: None | str
    key: str
    state: WorkflowState
    updated_at: datetime.datetime
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        built_in = self.built_in

        description: None | str
        description = self.description

        key = self.key

        state = self.state.value

        updated_at = self.updated_at.isoformat()

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "built_in": built_in,
                "description": description,
                "key": key,
                "state": state,
                "updated_at": updated_at,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        built_in = d.pop("built_in")

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        key = d.pop("key")

        state = WorkflowState(d.pop("state"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        version = d.pop("version")

        workflow_summary = cls(
            built_in=built_in,
            description=description,
            key=key,
            state=state,
            updated_at=updated_at,
            version=version,
        )

        workflow_summary.additional_properties = d
        return workflow_summary

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
