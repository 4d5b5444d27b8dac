from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.channel_switches import ChannelSwitches
    from ..models.preferences_document_workflows import PreferencesDocumentWorkflows
    from ..models.quiet_hours_document import QuietHoursDocument


T = TypeVar("T", bound="PreferencesDocument")


@_attrs_define
class PreferencesDocument:
    """`GET/PUT /users/{id}/preferences`: per event type and channel, a global switch per
    channel, and quiet hours (null turns them off). What a PUT leaves out takes the default.
    `workflows` holds the switches of any workflow by its key (a built-in's too: a channel is off
    when either place turns it off).

        Attributes:
            channels (ChannelSwitches | Unset): On/off per channel; what is left out is on.
            comment_liked (ChannelSwitches | Unset): On/off per channel; what is left out is on.
            new_episode (ChannelSwitches | Unset): On/off per channel; what is left out is on.
            new_releases_promo (ChannelSwitches | Unset): On/off per channel; what is left out is on.
            quiet_hours (None | QuietHoursDocument | Unset):
            watch_later_reminder (ChannelSwitches | Unset): On/off per channel; what is left out is on.
            workflows (PreferencesDocumentWorkflows | Unset):
    """

    channels: ChannelSwitches | Unset = UNSET
    comment_liked: ChannelSwitches | Unset = UNSET
    new_episode: ChannelSwitches | Unset = UNSET
    new_releases_promo: ChannelSwitches | Unset = UNSET
    quiet_hours: None | QuietHoursDocument | Unset = UNSET
    watch_later_reminder: ChannelSwitches | Unset = UNSET
    workflows: PreferencesDocumentWorkflows | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.quiet_hours_document import QuietHoursDocument  # noqa: PLC0415

        channels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.channels, Unset):
            channels = self.channels.to_dict()

        comment_liked: dict[str, Any] | Unset = UNSET
        if not isinstance(self.comment_liked, Unset):
            comment_liked = self.comment_liked.to_dict()

        new_episode: dict[str, Any] | Unset = UNSET
        if not isinstance(self.new_episode, Unset):
            new_episode = self.new_episode.to_dict()

        new_releases_promo: dict[str, Any] | Unset = UNSET
        if not isinstance(self.new_releases_promo, Unset):
            new_releases_promo = self.new_releases_promo.to_dict()

        quiet_hours: dict[str, Any] | None | Unset
        if isinstance(self.quiet_hours, Unset):
            quiet_hours = UNSET
        elif isinstance(self.quiet_hours, QuietHoursDocument):
            quiet_hours = self.quiet_hours.to_dict()
        else:
            quiet_hours = self.quiet_hours

        watch_later_reminder: dict[str, Any] | Unset = UNSET
        if not isinstance(self.watch_later_reminder, Unset):
            watch_later_reminder = self.watch_later_reminder.to_dict()

        workflows: dict[str, Any] | Unset = UNSET
        if not isinstance(self.workflows, Unset):
            workflows = self.workflows.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if channels is not UNSET:
            field_dict["channels"] = channels
        if comment_liked is not UNSET:
            field_dict["comment_liked"] = comment_liked
        if new_episode is not UNSET:
            field_dict["new_episode"] = new_episode
        if new_releases_promo is not UNSET:
            field_dict["new_releases_promo"] = new_releases_promo
        if quiet_hours is not UNSET:
            field_dict["quiet_hours"] = quiet_hours
        if watch_later_reminder is not UNSET:
            field_dict["watch_later_reminder"] = watch_later_reminder
        if workflows is not UNSET:
            field_dict["workflows"] = workflows

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.channel_switches import ChannelSwitches  # noqa: PLC0415
        from ..models.preferences_document_workflows import PreferencesDocumentWorkflows  # noqa: PLC0415
        from ..models.quiet_hours_document import QuietHoursDocument  # noqa: PLC0415

        d = dict(src_dict)
        _channels = d.pop("channels", UNSET)
        channels: ChannelSwitches | Unset
        if isinstance(_channels, Unset):
            channels = UNSET
        else:
            channels = ChannelSwitches.from_dict(_channels)

        _comment_liked = d.pop("comment_liked", UNSET)
        comment_liked: ChannelSwitches | Unset
        if isinstance(_comment_liked, Unset):
            comment_liked = UNSET
        else:
            comment_liked = ChannelSwitches.from_dict(_comment_liked)

        _new_episode = d.pop("new_episode", UNSET)
        new_episode: ChannelSwitches | Unset
        if isinstance(_new_episode, Unset):
            new_episode = UNSET
        else:
            new_episode = ChannelSwitches.from_dict(_new_episode)

        _new_releases_promo = d.pop("new_releases_promo", UNSET)
        new_releases_promo: ChannelSwitches | Unset
        if isinstance(_new_releases_promo, Unset):
            new_releases_promo = UNSET
        else:
            new_releases_promo = ChannelSwitches.from_dict(_new_releases_promo)

        def _parse_quiet_hours(data: object) -> None | QuietHoursDocument | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                quiet_hours_type_0 = QuietHoursDocument.from_dict(data)

                return quiet_hours_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | QuietHoursDocument | Unset, data)

        quiet_hours = _parse_quiet_hours(d.pop("quiet_hours", UNSET))

        _watch_later_reminder = d.pop("watch_later_reminder", UNSET)
        watch_later_reminder: ChannelSwitches | Unset
        if isinstance(_watch_later_reminder, Unset):
            watch_later_reminder = UNSET
        else:
            watch_later_reminder = ChannelSwitches.from_dict(_watch_later_reminder)

        _workflows = d.pop("workflows", UNSET)
        workflows: PreferencesDocumentWorkflows | Unset
        if isinstance(_workflows, Unset):
            workflows = UNSET
        else:
            workflows = PreferencesDocumentWorkflows.from_dict(_workflows)

        preferences_document = cls(
            channels=channels,
            comment_liked=comment_liked,
            new_episode=new_episode,
            new_releases_promo=new_releases_promo,
            quiet_hours=quiet_hours,
            watch_later_reminder=watch_later_reminder,
            workflows=workflows,
        )

        return preferences_document
