from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.condition_any_type_0_item_type_0 import ConditionAnyType0ItemType0
from ..models.condition_any_type_0_item_type_1 import ConditionAnyType0ItemType1
from ..models.condition_not_type_0_item_type_0 import ConditionNotType0ItemType0
from ..models.condition_not_type_0_item_type_1 import ConditionNotType0ItemType1
from ..types import UNSET, Unset

T = TypeVar("T", bound="Condition")


@_attrs_define
class Condition:
    """True when the notification of the send step `ref` is in `any` of the states, or, with
    `not`, in none of them.

        Attributes:
            ref (str):
            any_ (list[ConditionAnyType0ItemType0 | ConditionAnyType0ItemType1] | None | Unset):
            not_ (list[ConditionNotType0ItemType0 | ConditionNotType0ItemType1] | None | Unset):
    """

    ref: str
    any_: list[ConditionAnyType0ItemType0 | ConditionAnyType0ItemType1] | None | Unset = UNSET
    not_: list[ConditionNotType0ItemType0 | ConditionNotType0ItemType1] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        ref = self.ref

        any_: list[str] | None | Unset
        if isinstance(self.any_, Unset):
            any_ = UNSET
        elif isinstance(self.any_, list):
            any_ = []
            for any_type_0_item_data in self.any_:
                any_type_0_item: str
                if isinstance(any_type_0_item_data, ConditionAnyType0ItemType0):
                    any_type_0_item = any_type_0_item_data.value
                else:
                    any_type_0_item = any_type_0_item_data.value

                any_.append(any_type_0_item)

        else:
            any_ = self.any_

        not_: list[str] | None | Unset
        if isinstance(self.not_, Unset):
            not_ = UNSET
        elif isinstance(self.not_, list):
            not_ = []
            for not_type_0_item_data in self.not_:
                not_type_0_item: str
                if isinstance(not_type_0_item_data, ConditionNotType0ItemType0):
                    not_type_0_item = not_type_0_item_data.value
                else:
                    not_type_0_item = not_type_0_item_data.value

                not_.append(not_type_0_item)

        else:
            not_ = self.not_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "ref": ref,
            }
        )
        if any_ is not UNSET:
            field_dict["any"] = any_
        if not_ is not UNSET:
            field_dict["not"] = not_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        ref = d.pop("ref")

        def _parse_any_(data: object) -> list[ConditionAnyType0ItemType0 | ConditionAnyType0ItemType1] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                any_type_0 = []
                _any_type_0 = data
                for any_type_0_item_data in _any_type_0:

                    def _parse_any_type_0_item(data: object) -> ConditionAnyType0ItemType0 | ConditionAnyType0ItemType1:
                        try:
                            if not isinstance(data, str):
                                raise TypeError()
                            any_type_0_item_type_0 = ConditionAnyType0ItemType0(data)

                            return any_type_0_item_type_0
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        if not isinstance(data, str):
                            raise TypeError()
                        any_type_0_item_type_1 = ConditionAnyType0ItemType1(data)

                        return any_type_0_item_type_1

                    any_type_0_item = _parse_any_type_0_item(any_type_0_item_data)

                    any_type_0.append(any_type_0_item)

                return any_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[ConditionAnyType0ItemType0 | ConditionAnyType0ItemType1] | None | Unset, data)

        any_ = _parse_any_(d.pop("any", UNSET))

        def _parse_not_(data: object) -> list[ConditionNotType0ItemType0 | ConditionNotType0ItemType1] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                not_type_0 = []
                _not_type_0 = data
                for not_type_0_item_data in _not_type_0:

                    def _parse_not_type_0_item(data: object) -> ConditionNotType0ItemType0 | ConditionNotType0ItemType1:
                        try:
                            if not isinstance(data, str):
                                raise TypeError()
                            not_type_0_item_type_0 = ConditionNotType0ItemType0(data)

                            return not_type_0_item_type_0
                        except (TypeError, ValueError, AttributeError, KeyError):
                            pass
                        if not isinstance(data, str):
                            raise TypeError()
                        not_type_0_item_type_1 = ConditionNotType0ItemType1(data)

                        return not_type_0_item_type_1

                    not_type_0_item = _parse_not_type_0_item(not_type_0_item_data)

                    not_type_0.append(not_type_0_item)

                return not_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[ConditionNotType0ItemType0 | ConditionNotType0ItemType1] | None | Unset, data)

        not_ = _parse_not_(d.pop("not", UNSET))

        condition = cls(
            ref=ref,
            any_=any_,
            not_=not_,
        )

        return condition
