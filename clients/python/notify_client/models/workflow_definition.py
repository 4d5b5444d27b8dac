from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.controls import Controls
    from ..models.delay_step import DelayStep
    from ..models.send_step import SendStep
    from ..models.templates import Templates
    from ..models.tracking import Tracking
    from ..models.wait_step import WaitStep


T = TypeVar("T", bound="WorkflowDefinition")


@_attrs_define
class WorkflowDefinition:
    """`PUT /workflows/{key}`: what one version of a workflow is.

    Attributes:
        steps (list[DelayStep | SendStep | WaitStep]):
        controls (Controls | Unset):
        description (None | str | Unset):
        priority (int | Unset):  Default: 5.
        templates (Templates | Unset): Per channel, per locale. A recipient whose locale a channel lacks reads `en`,
            else the first.
        tracking (Tracking | Unset):
    """

    steps: list[DelayStep | SendStep | WaitStep]
    controls: Controls | Unset = UNSET
    description: None | str | Unset = UNSET
    priority: int | Unset = 5
    templates: Templates | Unset = UNSET
    tracking: Tracking | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.delay_step import DelayStep  # noqa: PLC0415
        from ..models.send_step import SendStep  # noqa: PLC0415

        steps = []
        for steps_item_data in self.steps:
            steps_item: dict[str, Any]
            if isinstance(steps_item_data, SendStep):
                steps_item = steps_item_data.to_dict()
            elif isinstance(steps_item_data, DelayStep):
                steps_item = steps_item_data.to_dict()
            else:
                steps_item = steps_item_data.to_dict()

            steps.append(steps_item)

        controls: dict[str, Any] | Unset = UNSET
        if not isinstance(self.controls, Unset):
            controls = self.controls.to_dict()

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        priority = self.priority

        templates: dict[str, Any] | Unset = UNSET
        if not isinstance(self.templates, Unset):
            templates = self.templates.to_dict()

        tracking: dict[str, Any] | Unset = UNSET
        if not isinstance(self.tracking, Unset):
            tracking = self.tracking.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "steps": steps,
            }
        )
        if controls is not UNSET:
            field_dict["controls"] = controls
        if description is not UNSET:
            field_dict["description"] = description
        if priority is not UNSET:
            field_dict["priority"] = priority
        if templates is not UNSET:
            field_dict["templates"] = templates
        if tracking is not UNSET:
            field_dict["tracking"] = tracking

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.controls import Controls  # noqa: PLC0415
        from ..models.delay_step import DelayStep  # noqa: PLC0415
        from ..models.send_step import SendStep  # noqa: PLC0415
        from ..models.templates import Templates  # noqa: PLC0415
        from ..models.tracking import Tracking  # noqa: PLC0415
        from ..models.wait_step import WaitStep  # noqa: PLC0415

        d = dict(src_dict)
        steps = []
        _steps = d.pop("steps")
        for steps_item_data in _steps:

            def _parse_steps_item(data: object) -> DelayStep | SendStep | WaitStep:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    steps_item_type_0 = SendStep.from_dict(data)

                    return steps_item_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    steps_item_type_1 = DelayStep.from_dict(data)

                    return steps_item_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                steps_item_type_2 = WaitStep.from_dict(data)

                return steps_item_type_2

            steps_item = _parse_steps_item(steps_item_data)

            steps.append(steps_item)

        _controls = d.pop("controls", UNSET)
        controls: Controls | Unset
        if isinstance(_controls, Unset):
            controls = UNSET
        else:
            controls = Controls.from_dict(_controls)

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        priority = d.pop("priority", UNSET)

        _templates = d.pop("templates", UNSET)
        templates: Templates | Unset
        if isinstance(_templates, Unset):
            templates = UNSET
        else:
            templates = Templates.from_dict(_templates)

        _tracking = d.pop("tracking", UNSET)
        tracking: Tracking | Unset
        if isinstance(_tracking, Unset):
            tracking = UNSET
        else:
            tracking = Tracking.from_dict(_tracking)

        workflow_definition = cls(
            steps=steps,
            controls=controls,
            description=description,
            priority=priority,
            templates=templates,
            tracking=tracking,
        )

        return workflow_definition
