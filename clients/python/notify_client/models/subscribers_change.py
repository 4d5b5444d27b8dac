from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="SubscribersChange")


@_attrs_define
class SubscribersChange:
    """
    Attributes:
        add (list[UUID] | Unset):
        remove (list[UUID] | Unset):
    """

    add: list[UUID] | Unset = UNSET
    remove: list[UUID] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        add: list[str] | Unset = UNSET
        if not isinstance(self.add, Unset):
            add = []
            for add_item_data in self.add:
                add_item = str(add_item_data)
                add.append(add_item)

        remove: list[str] | Unset = UNSET
        if not isinstance(self.remove, Unset):
            remove = []
            for remove_item_data in self.remove:
                remove_item = str(remove_item_data)
                remove.append(remove_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if add is not UNSET:
            field_dict["add"] = add
        if remove is not UNSET:
            field_dict["remove"] = remove

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _add = d.pop("add", UNSET)
        add: list[UUID] | Unset = UNSET
        if _add is not UNSET:
            add = []
            for add_item_data in _add:
                add_item = UUID(add_item_data)

                add.append(add_item)

        _remove = d.pop("remove", UNSET)
        remove: list[UUID] | Unset = UNSET
        if _remove is not UNSET:
            remove = []
            for remove_item_data in _remove:
                remove_item = UUID(remove_item_data)

                remove.append(remove_item)

        subscribers_change = cls(
            add=add,
            remove=remove,
        )

        return subscribers_change
