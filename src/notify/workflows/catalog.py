"""Workflows as data: saved as immutable versions, read, archived, previewed; and the versions the
senders render from, kept once read (a version never changes)."""

import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from notify.channels import Channel
from notify.errors import FieldProblem, InvalidInput, NotFound, StateConflict
from notify.workflows.models import (
    Content,
    PreviewRequest,
    PreviewView,
    Recipient,
    RenderedEmail,
    RenderedPush,
    RenderedSms,
    RunStepView,
    RunView,
    VersionSummary,
    WorkflowDefinition,
    WorkflowPage,
    WorkflowSaved,
    WorkflowVersionView,
    WorkflowView,
)
from notify.workflows.ports import RunStore, WorkflowStore, WorkflowVersion, WorkflowVersions
from notify.workflows.rendering import CompiledTemplates, ServiceTemplates, render_channel
from notify.workflows.sandbox import TemplateProblem
from notify.workflows.validation import check_definition

# What a preview shows where an e-mail has its unsubscribe link: a real link would let whoever may
# read workflows unsubscribe any user.
PREVIEW_UNSUBSCRIBE_URL = "https://notify.invalid/unsubscribe?token=preview"
HIDDEN_CONTACTS = {"email": "(hidden)", "phone": "(hidden)", "push_token": "(hidden)"}


class PreviewDirectory(Protocol):
    """What a preview reads of the directory: the user as templates see them, and the movies."""

    def template_recipient(self, user_id: str) -> Recipient | None: ...

    def template_content(self, movie_ids: Sequence[str]) -> list[Content]: ...


def put_workflow(
    key: str, definition: WorkflowDefinition, *, now: datetime, store: WorkflowStore
) -> WorkflowSaved:
    """Check the definition (InvalidInput names each problem) and save it as the key's new current
    version; an archived workflow is active again."""
    check_definition(definition)
    version, created = store.save_version(key, definition, now)
    return WorkflowSaved(key=key, version=version.version, created=created)


def describe_workflow(key: str, *, store: WorkflowStore) -> WorkflowView:
    record = store.find_workflow(key)
    if record is None:
        raise NotFound(f"no workflow {key}")
    current = record.current
    return WorkflowView(
        key=current.key,
        built_in=current.built_in,
        state="archived" if record.archived_at else "active",
        version=current.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
        archived_at=record.archived_at,
        definition=current.definition,
        versions=[VersionSummary(version=n, created_at=at) for n, at in record.versions],
    )


def read_version(key: str, version: int, *, store: WorkflowStore) -> WorkflowVersionView:
    found = store.find_version(key, version)
    if found is None:
        raise NotFound(f"no version {version} of workflow {key}")
    return WorkflowVersionView(
        key=found.key,
        version=found.version,
        built_in=found.built_in,
        created_at=found.created_at,
        definition=found.definition,
    )


def page_workflows(
    *, limit: int, cursor: str | None, include_archived: bool, store: WorkflowStore
) -> WorkflowPage:
    return store.workflows_page(limit, cursor, include_archived)


def archive_workflow(key: str, *, now: datetime, store: WorkflowStore) -> None:
    """New events of the type are refused from now on (422); those accepted run to their end."""
    archived = store.archive_workflow(key, now)
    if archived is None:
        raise NotFound(f"no workflow {key}")
    if not archived:
        raise StateConflict(f"{key} is a built-in workflow: it can be changed, not archived")


def preview_workflow(
    key: str,
    request: PreviewRequest,
    *,
    store: WorkflowStore,
    directory: PreviewDirectory,
    service: ServiceTemplates,
) -> PreviewView:
    """The texts the current version's send steps would send the user, rendered by the senders' code."""
    current = store.current_version(key)
    if current is None:
        raise NotFound(f"no active workflow {key}")
    user = directory.template_recipient(request.user_id)
    if user is None:
        raise InvalidInput([FieldProblem(("body", "user_id"), f"unknown user id {request.user_id}")])
    movies = directory.template_content(request.content)
    known = {movie.movie_id for movie in movies}
    unknown = [
        FieldProblem(("body", "content", index), f"unknown movie id {raw}")
        for index, raw in enumerate(request.content)
        if uuid.UUID(raw) not in known
    ]
    if unknown:
        raise InvalidInput(unknown)
    by_id = {movie.movie_id: movie for movie in movies}
    content = [by_id[uuid.UUID(raw)] for raw in dict.fromkeys(request.content)]
    # Texts, not the directory: a reader of workflows sees no user's contacts.
    user = user.model_copy(update=HIDDEN_CONTACTS | ({"locale": request.locale} if request.locale else {}))
    compiled = CompiledTemplates(current.definition.templates)
    view = PreviewView(key=key, version=current.version, locale=user.locale)
    for channel in current.definition.channels_used():
        try:
            parts = render_channel(compiled, service, channel, user, content, PREVIEW_UNSUBSCRIBE_URL)
        except TemplateProblem as problem:
            where = f"line {problem.line}: " if problem.line else ""
            raise InvalidInput(
                [FieldProblem(("body",), f"the {channel} template: {where}{problem}")]
            ) from problem
        match channel:
            case Channel.EMAIL:
                view.email = RenderedEmail(subject=parts.subject or "", text=parts.text, html=parts.html)
            case Channel.PUSH:
                view.push = RenderedPush(title=parts.subject or "", body=parts.text)
            case Channel.SMS:
                view.sms = RenderedSms(text=parts.text)
    return view


def describe_run(event_id: uuid.UUID, user_id: uuid.UUID, *, runs: RunStore) -> RunView:
    """A recipient's run of an event's workflow: the steps taken (skipped ones with why) and until when
    it waits. NotFound when the event has no run for the user (a workflow whose sends all go out at once
    has none: its notifications tell all)."""
    found = runs.find_run(event_id, user_id)
    if found is None:
        raise NotFound(f"no run of event {event_id} for user {user_id}")
    return RunView(
        event_id=found.event_id,
        user_id=found.user_id,
        workflow=found.event_type,
        version=found.workflow_version,
        state=found.state,
        position=found.position,
        waiting_until=found.wake_at if found.state == "waiting" else None,
        steps=[RunStepView.model_validate(entry) for entry in found.history],
    )


class KeptVersions:
    """Versions read once and kept, each with its compiled templates: a version never changes. Safe
    for the threads of one sender."""

    def __init__(self, versions: WorkflowVersions) -> None:
        self._versions = versions
        self._kept: dict[tuple[str, int], tuple[WorkflowVersion, CompiledTemplates]] = {}
        self._lock = threading.Lock()

    def compiled(self, key: str, version: int) -> tuple[WorkflowVersion, CompiledTemplates]:
        """The version and its templates; NotFound when the store has no such version."""
        kept = self._kept.get((key, version))
        if kept is not None:
            return kept
        found = self._versions.find_version(key, version)
        if found is None:
            raise NotFound(f"no version {version} of workflow {key}")
        with self._lock:
            return self._kept.setdefault(
                (key, version), (found, CompiledTemplates(found.definition.templates))
            )

    def channels(self, key: str, version: int) -> dict[Channel, int]:
        """The channels the version sends on at once, each with its rows' step (ChannelsOf)."""
        found, _ = self.compiled(key, version)
        return found.definition.immediate_sends()
