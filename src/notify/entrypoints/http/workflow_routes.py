"""/workflows: what each event type does, saved as immutable versions, read, archived and previewed
(scopes workflows:read and workflows:write)."""

import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from notify.bootstrap import services
from notify.logs import service_logger
from notify.models import MAX_STORED_INT
from notify.workflows import (
    WORKFLOW_KEY_PATTERN,
    PreviewRequest,
    PreviewView,
    RunView,
    WorkflowDefinition,
    WorkflowPage,
    WorkflowSaved,
    WorkflowVersionView,
    WorkflowView,
    archive_workflow,
    describe_run,
    describe_workflow,
    page_workflows,
    preview_workflow,
    put_workflow,
    read_version,
)

logger = service_logger()
router = Router()  # type: ignore[no-untyped-call]

_KEY = WORKFLOW_KEY_PATTERN
Key = Annotated[str, Path(pattern=_KEY, max_length=64, description="1 to 64 characters of a-z, 0-9 and '_'")]


@router.get("/workflows")
def list_workflows(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(pattern=_KEY, max_length=64)] = None,
    include_archived: Annotated[bool, Query()] = False,
) -> WorkflowPage:
    return page_workflows(
        limit=limit, cursor=cursor, include_archived=include_archived, store=services().workflows
    )


@router.put(
    "/workflows/<key>", responses={201: {"description": "Created"}, 200: {"description": "A new version"}}
)
def put_workflow_route(key: Key, definition: WorkflowDefinition) -> Response[WorkflowSaved]:
    saved = put_workflow(key, definition, now=datetime.now(UTC), store=services().workflows)
    logger.info("workflow saved", extra={"workflow": key, "version": saved.version})
    return Response(
        status_code=HTTPStatus.CREATED if saved.created else HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=saved,
    )


@router.get("/workflows/<key>")
def get_workflow(key: Key) -> WorkflowView:
    return describe_workflow(key, store=services().workflows)


@router.get("/workflows/<key>/versions/<version>")
def get_workflow_version(
    key: Key, version: Annotated[int, Path(ge=1, le=MAX_STORED_INT)]
) -> WorkflowVersionView:
    return read_version(key, version, store=services().workflows)


@router.delete("/workflows/<key>", responses={204: {"description": "Archived"}})
def delete_workflow(key: Key) -> Response[None]:
    archive_workflow(key, now=datetime.now(UTC), store=services().workflows)
    logger.info("workflow archived", extra={"workflow": key})
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@router.post("/workflows/<key>/preview")
def preview_workflow_route(key: Key, request: PreviewRequest) -> PreviewView:
    ctx = services()
    return preview_workflow(
        key, request, store=ctx.workflows, directory=ctx.preview_directory, service=ctx.service_templates
    )


@router.get("/events/<event_id>/runs")
def get_run(event_id: uuid.UUID, user_id: Annotated[uuid.UUID, Query()]) -> RunView:
    return describe_run(event_id, user_id, runs=services().runs)
