from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.channel import Channel
from ..models.notification_status import NotificationStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.engagement import Engagement


T = TypeVar("T", bound="NotificationView")


@_attrs_define
class NotificationView:
    """
    Attributes:
        attempts (int):
        channel (Channel):
        error (None | str):
        id (UUID):
        reason (None | str):
        sent_at (datetime.datetime | None):
        status (NotificationStatus): Where a notification (one recipient on one channel) is. On its way: queued,
            sending, retrying,
            and deferred or held until the tick sends them (quiet hours, a digest window). Final: sent,
            unconfirmed (the provider may have it), digested (it went out inside a digest), delivered, failed,
            bounced, complained, skipped, expired, cancelled; delivered, bounced and complained come after
            sent, from the provider's reports.
        step (int): The index of the workflow's send step that made it.
        step_ref (None | str): That step's ref, when it has one.
        user_id (UUID):
        deliver_after (datetime.datetime | None | Unset):
        digested_into (None | Unset | UUID):
        engagement (Engagement | Unset): When the recipient first opened, clicked or read it (None: not seen).
    """

    attempts: int
    channel: Channel
    error: None | str
    id: UUID
    reason: None | str
    sent_at: datetime.datetime | None
    status: NotificationStatus
    step: int
    step_ref: None | str
    user_id: UUID
    deliver_after: datetime.datetime | None | Unset = UNSET
    digested_into: None | Unset | UUID = UNSET
    engagement: Engagement | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        channel = self.channel.value

        error: None | str
        error = self.error

        id = str(self.id)

        reason: None | str
        reason = self.reason

        sent_at: None | str
        if isinstance(self.sent_at, datetime.datetime):
            sent_at = self.sent_at.isoformat()
        else:
            sent_at = self.sent_at

        status = self.status.value

        step = self.step

        step_ref: None | str
        step_ref = self.step_ref

        user_id = str(self.user_id)

        deliver_after: None | str | Unset
        if isinstance(self.deliver_after, Unset):
            deliver_after = UNSET
        elif isinstance(self.deliver_after, datetime.datetime):
            deliver_after = self.deliver_after.isoformat()
        else:
            deliver_after = self.deliver_after

        digested_into: None | str | Unset
        if isinstance(self.digested_into, Unset):
            digested_into = UNSET
        elif isinstance(self.digested_into, UUID):
            digested_into = str(self.digested_into)
        else:
            digested_into = self.digested_into

        engagement: dict[str, Any] | Unset = UNSET
        if not isinstance(self.engagement, Unset):
            engagement = self.engagement.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "channel": channel,
                "error": error,
                "id": id,
                "reason": reason,
                "sent_at": sent_at,
                "status": status,
                "step": step,
                "step_ref": step_ref,
                "user_id": user_id,
            }
        )
        if deliver_after is not UNSET:
            field_dict["deliver_after"] = deliver_after
        if digested_into is not UNSET:
            field_dict["digested_into"] = digested_into
        if engagement is not UNSET:
            field_dict["engagement"] = engagement

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.engagement import Engagement  # noqa: PLC0415

        d = dict(src_dict)
        attempts = d.pop("attempts")

        channel = Channel(d.pop("channel"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        id = UUID(d.pop("id"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        def _parse_sent_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sent_at_type_0 = datetime.datetime.fromisoformat(data)

                return sent_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        sent_at = _parse_sent_at(d.pop("sent_at"))

        status = NotificationStatus(d.pop("status"))

        step = d.pop("step")

        def _parse_step_ref(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        step_ref = _parse_step_ref(d.pop("step_ref"))

        user_id = UUID(d.pop("user_id"))

        def _parse_deliver_after(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deliver_after_type_0 = datetime.datetime.fromisoformat(data)

                return deliver_after_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        deliver_after = _parse_deliver_after(d.pop("deliver_after", UNSET))

        def _parse_digested_into(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                digested_into_type_0 = UUID(data)

                return digested_into_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        digested_into = _parse_digested_into(d.pop("digested_into", UNSET))

        _engagement = d.pop("engagement", UNSET)
        engagement: Engagement | Unset
        if isinstance(_engagement, Unset):
            engagement = UNSET
        else:
            engagement = Engagement.from_dict(_engagement)

        notification_view = cls(
            attempts=attempts,
            channel=channel,
            error=error,
            id=id,
            reason=reason,
            sent_at=sent_at,
            status=status,
            step=step,
            step_ref=step_ref,
            user_id=user_id,
            deliver_after=deliver_after,
            digested_into=digested_into,
            engagement=engagement,
        )

        notification_view.additional_properties = d
        return notification_view

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
