from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SubscribersChanged")


@_attrs_define
class SubscribersChanged:
    """
    Attributes:
        added (int):
        removed (int):
        skipped_users (list[str]):
        subscribers (int):
        topic (str):
    """

    added: int
    removed: int
    skipped_users: list[str]
    subscribers: int
    topic: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        added = self.added

        removed = self.removed

        skipped_users = self.skipped_users

        subscribers = self.subscribers

        topic = self.topic

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "added": added,
                "removed": removed,
                "skipped_users": skipped_users,
                "subscribers": subscribers,
                "topic": topic,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        added = d.pop("added")

        removed = d.pop("removed")

        skipped_users = cast(list[str], d.pop("skipped_users"))

        subscribers = d.pop("subscribers")

        topic = d.pop("topic")

        subscribers_changed = cls(
            added=added,
            removed=removed,
            skipped_users=skipped_users,
            subscribers=subscribers,
            topic=topic,
        )

        subscribers_changed.additional_properties = d
        return subscribers_changed

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
