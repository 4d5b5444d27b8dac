from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.run_view_state import RunViewState

if TYPE_CHECKING:
    from ..models.run_step_view import RunStepView


T = TypeVar("T", bound="RunView")


@_attrs_define
class RunView:
    """
    Attributes:
        event_id (UUID):
        position (int): The next step to take.
        state (RunViewState):
        steps (list[RunStepView]):
        user_id (UUID):
        version (int):
        waiting_until (datetime.datetime | None): When the tick looks at it again (a wait may end sooner).
        workflow (str):
    """

    event_id: UUID
    position: int
    state: RunViewState
    steps: list[RunStepView]
    user_id: UUID
    version: int
    waiting_until: datetime.datetime | None
    workflow: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_id = str(self.event_id)

        position = self.position

        state = self.state.value

        steps = []
        for steps_item_data in self.steps:
            steps_item = steps_item_data.to_dict()
            steps.append(steps_item)

        user_id = str(self.user_id)

        version = self.version

        waiting_until: None | str
        if isinstance(self.waiting_until, datetime.datetime):
            waiting_until = self.waiting_until.isoformat()
        else:
            waiting_until = self.waiting_until

        workflow = self.workflow

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "event_id": event_id,
                "position": position,
                "state": state,
                "steps": steps,
                "user_id": user_id,
                "version": version,
                "waiting_until": waiting_until,
                "workflow": workflow,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.run_step_view import RunStepView  # noqa: PLC0415

        d = dict(src_dict)
        event_id = UUID(d.pop("event_id"))

        position = d.pop("position")

        state = RunViewState(d.pop("state"))

        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:
            steps_item = RunStepView.from_dict(steps_item_data)

            steps.append(steps_item)

        user_id = UUID(d.pop("user_id"))

        version = d.pop("version")

        def _parse_waiting_until(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                waiting_until_type_0 = datetime.datetime.fromisoformat(data)

                return waiting_until_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        waiting_until = _parse_waiting_until(d.pop("waiting_until"))

        workflow = d.pop("workflow")

        run_view = cls(
            event_id=event_id,
            position=position,
            state=state,
            steps=steps,
            user_id=user_id,
            version=version,
            waiting_until=waiting_until,
            workflow=workflow,
        )

        run_view.additional_properties = d
        return run_view

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
