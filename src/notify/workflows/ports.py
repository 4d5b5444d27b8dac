"""The workflows capability's ports: where workflows and their versions are kept, and what the
senders read of them."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from notify.channels import Channel
from notify.outbox import OutboundMessage
from notify.workflows.models import WorkflowDefinition, WorkflowPage
from notify.workflows.runs import Facts, RunState


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


# ---- Runs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueRun:
    """A run whose wake-up time has come, claimed by the advancing transaction, with what is known of
    its sends (by step and channel)."""

    event_id: uuid.UUID
    user_id: uuid.UUID
    event_type: str
    workflow_version: int
    state: RunState
    facts: Facts
    cancelled: bool = False  # its event was cancelled: the run stops


@dataclass(frozen=True)
class RunDecision:
    """What one run does now: the sends to make, where it stands after, when to look at it again, and
    the steps it took (as the run's history shows them)."""

    event_id: uuid.UUID
    user_id: uuid.UUID
    state: RunState
    sends: list[tuple[int, Channel]]
    wake_at: datetime | None
    done: bool
    history: list[dict[str, Any]]
    cancelled: bool = False


@dataclass(frozen=True)
class AdvancedRuns:
    claimed: int
    sends: int
    outbox: list[OutboundMessage] = field(default_factory=list)


@dataclass(frozen=True)
class RunRecord:
    event_id: uuid.UUID
    user_id: uuid.UUID
    event_type: str
    workflow_version: int
    state: str  # waiting, done, cancelled
    position: int
    wake_at: datetime | None
    history: list[dict[str, Any]]


class RunStore(Protocol):
    def advance_due_runs(
        self,
        now: datetime,
        limit: int,
        sends_of: Callable[[str, int], list[tuple[int, Channel]]],
        decide: Callable[[list[DueRun]], list[RunDecision]],
        queues: Mapping[str, str],
        chunk_size: int,
    ) -> AdvancedRuns:
        """In one transaction: claim at most `limit` due runs (none another transaction holds), read
        what is known of their sends (`sends_of`: each workflow version's (step, channel) pairs), let
        `decide` take their steps, and store the result: the new notification rows (`skipped` /
        `no_contact` where the recipient has no contact on the channel, which wakes its run again at
        once) with their messages in the outbox (`queues`: the router's routes), and each run's new
        state. The messages are returned for publishing after the commit."""
        ...

    def find_run(self, event_id: uuid.UUID, user_id: uuid.UUID) -> RunRecord | None: ...
