from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.channel import Channel
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.condition import Condition


T = TypeVar("T", bound="SendStep")


@_attrs_define
class SendStep:
    """Send on `channel`, or on the first of `channels` that works (`mode: first_that_works`: on
    `skipped` or a permanent failure the next is tried at once). Skipped when `if` is false.

        Attributes:
            type_ (Literal['send']):
            channel (Channel | None | Unset):
            channels (list[Channel] | None | Unset):
            if_ (Condition | None | Unset):
            mode (Literal['first_that_works'] | None | Unset):
            ref (None | str | Unset):
    """

    type_: Literal["send"]
    channel: Channel | None | Unset = UNSET
    channels: list[Channel] | None | Unset = UNSET
    if_: Condition | None | Unset = UNSET
    mode: Literal["first_that_works"] | None | Unset = UNSET
    ref: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.condition import Condition  # noqa: PLC0415

        type_ = self.type_

        channel: None | str | Unset
        if isinstance(self.channel, Unset):
            channel = UNSET
        elif isinstance(self.channel, Channel):
            channel = self.channel.value
        else:
            channel = self.channel

        channels: list[str] | None | Unset
        if isinstance(self.channels, Unset):
            channels = UNSET
        elif isinstance(self.channels, list):
            channels = []
            for channels_type_0_item_data in self.channels:
                channels_type_0_item = channels_type_0_item_data.value
                channels.append(channels_type_0_item)

        else:
            channels = self.channels

        if_: dict[str, Any] | None | Unset
        if isinstance(self.if_, Unset):
            if_ = UNSET
        elif isinstance(self.if_, Condition):
            if_ = self.if_.to_dict()
        else:
            if_ = self.if_

        mode: Literal["first_that_works"] | None | Unset
        if isinstance(self.mode, Unset):
            mode = UNSET
        else:
            mode = self.mode

        ref: None | str | Unset
        if isinstance(self.ref, Unset):
            ref = UNSET
        else:
            ref = self.ref

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "type": type_,
            }
        )
        if channel is not UNSET:
            field_dict["channel"] = channel
        if channels is not UNSET:
            field_dict["channels"] = channels
        if if_ is not UNSET:
            field_dict["if"] = if_
        if mode is not UNSET:
            field_dict["mode"] = mode
        if ref is not UNSET:
            field_dict["ref"] = ref

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.condition import Condition  # noqa: PLC0415

        d = dict(src_dict)
        type_ = cast(Literal["send"], d.pop("type"))
        if type_ != "send":
            raise ValueError(f"type must match const 'send', got '{type_}'")

        def _parse_channel(data: object) -> Channel | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                channel_type_0 = Channel(data)

                return channel_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Channel | None | Unset, data)

        channel = _parse_channel(d.pop("channel", UNSET))

        def _parse_channels(data: object) -> list[Channel] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                channels_type_0 = []
                _channels_type_0 = data
                for channels_type_0_item_data in _channels_type_0:
                    channels_type_0_item = Channel(channels_type_0_item_data)

                    channels_type_0.append(channels_type_0_item)

                return channels_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Channel] | None | Unset, data)

        channels = _parse_channels(d.pop("channels", UNSET))

        def _parse_if_(data: object) -> Condition | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                if_type_0 = Condition.from_dict(data)

                return if_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Condition | None | Unset, data)

        if_ = _parse_if_(d.pop("if", UNSET))

        def _parse_mode(data: object) -> Literal["first_that_works"] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            mode_type_0 = cast(Literal["first_that_works"], data)
            if mode_type_0 != "first_that_works":
                raise ValueError(f"mode_type_0 must match const 'first_that_works', got '{mode_type_0}'")
            return mode_type_0
            return cast(Literal["first_that_works"] | None | Unset, data)

        mode = _parse_mode(d.pop("mode", UNSET))

        def _parse_ref(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ref = _parse_ref(d.pop("ref", UNSET))

        send_step = cls(
            type_=type_,
            channel=channel,
            channels=channels,
            if_=if_,
            mode=mode,
            ref=ref,
        )

        return send_step
