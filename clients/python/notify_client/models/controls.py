from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.controls_frequency_caps import ControlsFrequencyCaps


T = TypeVar("T", bound="Controls")


@_attrs_define
class Controls:
    """
    Attributes:
        digest_window_seconds (int | None | Unset): How long one recipient's notifications gather into a digest.
        frequency_caps (ControlsFrequencyCaps | Unset): Per channel: at most N sends per rolling window of S seconds.
        max_age_seconds (int | None | Unset): A notification older than this is expired, not sent late.
        quiet_hours (bool | Unset): false: sent in the recipient's quiet hours too (time-critical types). Default: True.
    """

    digest_window_seconds: int | None | Unset = UNSET
    frequency_caps: ControlsFrequencyCaps | Unset = UNSET
    max_age_seconds: int | None | Unset = UNSET
    quiet_hours: bool | Unset = True

    def to_dict(self) -> dict[str, Any]:
        digest_window_seconds: int | None | Unset
        if isinstance(self.digest_window_seconds, Unset):
            digest_window_seconds = UNSET
        else:
            digest_window_seconds = self.digest_window_seconds

        frequency_caps: dict[str, Any] | Unset = UNSET
        if not isinstance(self.frequency_caps, Unset):
            frequency_caps = self.frequency_caps.to_dict()

        max_age_seconds: int | None | Unset
        if isinstance(self.max_age_seconds, Unset):
            max_age_seconds = UNSET
        else:
            max_age_seconds = self.max_age_seconds

        quiet_hours = self.quiet_hours

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if digest_window_seconds is not UNSET:
            field_dict["digest_window_seconds"] = digest_window_seconds
        if frequency_caps is not UNSET:
            field_dict["frequency_caps"] = frequency_caps
        if max_age_seconds is not UNSET:
            field_dict["max_age_seconds"] = max_age_seconds
        if quiet_hours is not UNSET:
            field_dict["quiet_hours"] = quiet_hours

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.controls_frequency_caps import ControlsFrequencyCaps  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_digest_window_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        digest_window_seconds = _parse_digest_window_seconds(d.pop("digest_window_seconds", UNSET))

        _frequency_caps = d.pop("frequency_caps", UNSET)
        frequency_caps: ControlsFrequencyCaps | Unset
        if isinstance(_frequency_caps, Unset):
            frequency_caps = UNSET
        else:
            frequency_caps = ControlsFrequencyCaps.from_dict(_frequency_caps)

        def _parse_max_age_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_age_seconds = _parse_max_age_seconds(d.pop("max_age_seconds", UNSET))

        quiet_hours = d.pop("quiet_hours", UNSET)

        controls = cls(
            digest_window_seconds=digest_window_seconds,
            frequency_caps=frequency_caps,
            max_age_seconds=max_age_seconds,
            quiet_hours=quiet_hours,
        )

        return controls
