from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.workflow_definition import WorkflowDefinition


T = TypeVar("T", bound="WorkflowVersionView")


@_attrs_define
class WorkflowVersionView:
    """
    Attributes:
        built_in (bool):
        created_at (datetime.datetime):
        definition (WorkflowDefinition): `PUT /workflows/{key}`: what one version of a workflow is.
        key (str):
        version (int):
    """

    built_in: bool
    created_at: datetime.datetime
    definition: WorkflowDefinition
    key: str
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        built_in = self.built_in

        created_at = self.created_at.isoformat()

        definition = self.definition.to_dict()

        key = self.key

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "built_in": built_in,
                "created_at": created_at,
                "definition": definition,
                "key": key,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.workflow_definition import WorkflowDefinition  # noqa: PLC0415

        d = dict(src_dict)
        built_in = d.pop("built_in")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        definition = WorkflowDefinition.from_dict(d.pop("definition"))

        key = d.pop("key")

        version = d.pop("version")

        workflow_version_view = cls(
            built_in=built_in,
            created_at=created_at,
            definition=definition,
            key=key,
            version=version,
        )

        workflow_version_view.additional_properties = d
        return workflow_version_view

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
