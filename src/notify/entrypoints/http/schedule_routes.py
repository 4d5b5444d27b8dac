"""/schedules: recurring and delayed sends, read, paused, changed and cancelled (scopes schedules:read
and schedules:write)."""

import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from notify.bootstrap import services
from notify.logs import service_logger
from notify.scheduling import (
    SchedulePage,
    SchedulePatch,
    ScheduleState,
    ScheduleView,
    cancel_schedule,
    change_schedule,
    describe_schedule,
    page_schedules,
)
from notify.workflows import WORKFLOW_KEY_PATTERN

logger = service_logger()
router = Router()  # type: ignore[no-untyped-call]


@router.get("/schedules")
def list_schedules(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    event_type: Annotated[str | None, Query(pattern=WORKFLOW_KEY_PATTERN)] = None,
    state: Annotated[ScheduleState | None, Query()] = None,
) -> SchedulePage:
    return page_schedules(
        event_type=event_type,
        state=state,
        limit=limit,
        cursor=cursor,
        schedules=services().schedules,
        workflows=services().workflows,
    )


@router.get("/schedules/<schedule_id>")
def get_schedule(schedule_id: uuid.UUID) -> ScheduleView:
    return describe_schedule(schedule_id, schedules=services().schedules)


@router.patch("/schedules/<schedule_id>")
def patch_schedule(schedule_id: uuid.UUID, patch: SchedulePatch) -> ScheduleView:
    return change_schedule(schedule_id, patch, now=datetime.now(UTC), schedules=services().schedules)


@router.delete("/schedules/<schedule_id>", responses={204: {"description": "Cancelled"}})
def delete_schedule(schedule_id: uuid.UUID) -> Response[None]:
    cancel_schedule(schedule_id, schedules=services().schedules)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)
