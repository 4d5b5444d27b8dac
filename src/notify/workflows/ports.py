"""The workflows capability's ports: where workflows and their versions are kept, and what the
senders read of them."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notify.workflows.models import WorkflowDefinition, WorkflowPage


@dataclass(frozen=True)
class WorkflowVersion:
    """One immutable version of a workflow: what an event accepted under it runs."""

    key: str
    version: int
    built_in: bool
    created_at: datetime
    definition: WorkflowDefinition


@dataclass(frozen=True)
class WorkflowRecord:
    """A workflow: its current version, when it was archived (None: active), and its versions."""

    current: WorkflowVersion
    updated_at: datetime
    archived_at: datetime | None
    versions: list[tuple[int, datetime]]
    created_at: datetime


class WorkflowStore(Protocol):
    def save_version(
        self, key: str, definition: WorkflowDefinition, now: datetime
    ) -> tuple[WorkflowVersion, bool]:
        """A new current version of `key` (the workflow made when it is new, made active again when
        it was archived), and whether the workflow is new."""
        ...

    def find_workflow(self, key: str) -> WorkflowRecord | None: ...

    def find_version(self, key: str, version: int) -> WorkflowVersion | None: ...

    def current_version(self, key: str) -> WorkflowVersion | None:
        """The version an event of type `key` runs now; None when there is none or it is archived."""
        ...

    def workflows_page(self, limit: int, cursor: str | None, include_archived: bool) -> WorkflowPage: ...

    def archive_workflow(self, key: str, now: datetime) -> bool | None:
        """True when archived (or already), False for a built-in (never archived), None: no such key."""
        ...


class CurrentVersions(Protocol):
    def current_version(self, key: str) -> WorkflowVersion | None:
        """The version an event of type `key` runs now; None when there is none or it is archived."""
        ...


class WorkflowVersions(Protocol):
    """What the senders and the tick read: a version by its number (immutable: kept once read)."""

    def find_version(self, key: str, version: int) -> WorkflowVersion | None: ...
