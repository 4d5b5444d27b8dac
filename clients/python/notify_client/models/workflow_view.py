from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.workflow_state import WorkflowState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.version_summary import VersionSummary
    from ..models.workflow_definition import WorkflowDefinition


T = TypeVar("T", bound="WorkflowView")


@_attrs_define
class WorkflowView:
    """`GET /workflows/{key}`: the current version, and every version.

    Attributes:
        built_in (bool):
        created_at (datetime.datetime):
        definition (WorkflowDefinition): `PUT /workflows/{key}`: what one version of a workflow is.
        key (str):
        state (WorkflowState): Active: events of it are accepted. Archived (DELETE): new events of it are refused (422);
            a PUT
            makes it active again.
        updated_at (datetime.datetime):
        version (int):
        versions (list[VersionSummary]):
        archived_at (datetime.datetime | None | Unset):
    """

    built_in: bool
    created_at: datetime.datetime
    definition: WorkflowDefinition
    key: str
    state: WorkflowState
    updated_at: datetime.datetime
    version: int
    versions: list[VersionSummary]
    archived_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        built_in = self.built_in

        created_at = self.created_at.isoformat()

        definition = self.definition.to_dict()

        key = self.key

        state = self.state.value

        updated_at = self.updated_at.isoformat()

        version = self.version

        versions = []
        for versions_item_data in self.versions:
            versions_item = versions_item_data.to_dict()
            versions.append(versions_item)

        archived_at: None | str | Unset
        if isinstance(self.archived_at, Unset):
            archived_at = UNSET
        elif isinstance(self.archived_at, datetime.datetime):
            archived_at = self.archived_at.isoformat()
        else:
            archived_at = self.archived_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "built_in": built_in,
                "created_at": created_at,
                "definition": definition,
                "key": key,
                "state": state,
                "updated_at": updated_at,
                "version": version,
                "versions": versions,
            }
        )
        if archived_at is not UNSET:
            field_dict["archived_at"] = archived_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.version_summary import VersionSummary  # noqa: PLC0415
        from ..models.workflow_definition import WorkflowDefinition  # noqa: PLC0415

        d = dict(src_dict)
        built_in = d.pop("built_in")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        definition = WorkflowDefinition.from_dict(d.pop("definition"))

        key = d.pop("key")

        state = WorkflowState(d.pop("state"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        version = d.pop("version")

        versions = []
        _versions = d.pop("versions")
        for versions_item_data in _versions:
            versions_item = VersionSummary.from_dict(versions_item_data)

            versions.append(versions_item)

        def _parse_archived_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                archived_at_type_0 = datetime.datetime.fromisoformat(data)

                return archived_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        archived_at = _parse_archived_at(d.pop("archived_at", UNSET))

        workflow_view = cls(
            built_in=built_in,
            created_at=created_at,
            definition=definition,
            key=key,
            state=state,
            updated_at=updated_at,
            version=version,
            versions=versions,
            archived_at=archived_at,
        )

        workflow_view.additional_properties = d
        return workflow_view

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
