from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="EventPayload")


@_attrs_define
class EventPayload:
    """Who gets the event: `user` (the ids) or `audience` (a topic's members when it is fanned out).

    Attributes:
        audience (None | str | Unset):
        content (list[UUID] | Unset):
        user (list[UUID] | None | Unset):
    """

    audience: None | str | Unset = UNSET
    content: list[UUID] | Unset = UNSET
    user: list[UUID] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        audience: None | str | Unset
        if isinstance(self.audience, Unset):
            audience = UNSET
        else:
            audience = self.audience

        content: list[str] | Unset = UNSET
        if not isinstance(self.content, Unset):
            content = []
            for content_item_data in self.content:
                content_item = str(content_item_data)
                content.append(content_item)

        user: list[str] | None | Unset
        if isinstance(self.user, Unset):
            user = UNSET
        elif isinstance(self.user, list):
            user = []
            for user_type_0_item_data in self.user:
                user_type_0_item = str(user_type_0_item_data)
                user.append(user_type_0_item)

        else:
            user = self.user

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if audience is not UNSET:
            field_dict["audience"] = audience
        if content is not UNSET:
            field_dict["content"] = content
        if user is not UNSET:
            field_dict["user"] = user

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_audience(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        audience = _parse_audience(d.pop("audience", UNSET))

        _content = d.pop("content", UNSET)
        content: list[UUID] | Unset = UNSET
        if _content is not UNSET:
            content = []
            for content_item_data in _content:
                content_item = UUID(content_item_data)

                content.append(content_item)

        def _parse_user(data: object) -> list[UUID] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                user_type_0 = []
                _user_type_0 = data
                for user_type_0_item_data in _user_type_0:
                    user_type_0_item = UUID(user_type_0_item_data)

                    user_type_0.append(user_type_0_item)

                return user_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[UUID] | None | Unset, data)

        user = _parse_user(d.pop("user", UNSET))

        event_payload = cls(
            audience=audience,
            content=content,
            user=user,
        )

        return event_payload
