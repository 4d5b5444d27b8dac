from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..models.preview_request_locale_type_0 import PreviewRequestLocaleType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="PreviewRequest")


@_attrs_define
class PreviewRequest:
    """
    Attributes:
        user_id (UUID):
        content (list[UUID] | Unset):
        locale (None | PreviewRequestLocaleType0 | Unset):
    """

    user_id: UUID
    content: list[UUID] | Unset = UNSET
    locale: None | PreviewRequestLocaleType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        content: list[str] | Unset = UNSET
        if not isinstance(self.content, Unset):
            content = []
            for content_item_data in self.content:
                content_item = str(content_item_data)
                content.append(content_item)

        locale: None | str | Unset
        if isinstance(self.locale, Unset):
            locale = UNSET
        elif isinstance(self.locale, PreviewRequestLocaleType0):
            locale = self.locale.value
        else:
            locale = self.locale

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_id": user_id,
            }
        )
        if content is not UNSET:
            field_dict["content"] = content
        if locale is not UNSET:
            field_dict["locale"] = locale

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))

        _content = d.pop("content", UNSET)
        content: list[UUID] | Unset = UNSET
        if _content is not UNSET:
            content = []
            for content_item_data in _content:
                content_item = UUID(content_item_data)

                content.append(content_item)

        def _parse_locale(data: object) -> None | PreviewRequestLocaleType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                locale_type_0 = PreviewRequestLocaleType0(data)

                return locale_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PreviewRequestLocaleType0 | Unset, data)

        locale = _parse_locale(d.pop("locale", UNSET))

        preview_request = cls(
            user_id=user_id,
            content=content,
            locale=locale,
        )

        return preview_request
