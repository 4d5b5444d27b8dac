"""Workflows in memory: each key's versions in order, the built-ins seeded as version 1 (as the
migrations seed them), archived keys marked."""

from datetime import datetime

from notify.workflows import (
    WorkflowDefinition,
    WorkflowPage,
    WorkflowRecord,
    WorkflowSummary,
    WorkflowVersion,
)
from tests.fakes.tables import FakeTables, StoredWorkflow


class FakeWorkflows(FakeTables):
    """WorkflowStore, WorkflowVersions and CurrentVersions, following PostgresWorkflows."""

    def save_version(
        self, key: str, definition: WorkflowDefinition, now: datetime
    ) -> tuple[WorkflowVersion, bool]:
        self.check()
        stored = self.workflows.get(key)
        created = stored is None
        if stored is None:
            stored = self.workflows[key] = StoredWorkflow([], now, now)
        version = WorkflowVersion(key, len(stored.versions) + 1, stored.built_in, now, definition)
        stored.versions.append(version)
        stored.updated_at, stored.archived_at = now, None
        return version, created

    def find_workflow(self, key: str) -> WorkflowRecord | None:
        self.check()
        stored = self.workflows.get(key)
        if stored is None:
            return None
        return WorkflowRecord(
            current=stored.versions[-1],
            updated_at=stored.updated_at,
            archived_at=stored.archived_at,
            versions=[(v.version, v.created_at) for v in stored.versions],
            created_at=stored.created_at,
        )

    def find_version(self, key: str, version: int) -> WorkflowVersion | None:
        self.check()
        stored = self.workflows.get(key)
        if stored is None or not 1 <= version <= len(stored.versions):
            return None
        return stored.versions[version - 1]

    def current_version(self, key: str) -> WorkflowVersion | None:
        self.check()
        stored = self.workflows.get(key)
        return None if stored is None or stored.archived_at else stored.versions[-1]

    def workflows_page(self, limit: int, cursor: str | None, include_archived: bool) -> WorkflowPage:
        self.check()
        keys = sorted(
            key
            for key, stored in self.workflows.items()
            if (cursor is None or key > cursor) and (include_archived or not stored.archived_at)
        )
        items = [
            WorkflowSummary(
                key=key,
                description=self.workflows[key].versions[-1].definition.description,
                built_in=self.workflows[key].built_in,
                state="archived" if self.workflows[key].archived_at else "active",
                version=len(self.workflows[key].versions),
                updated_at=self.workflows[key].updated_at,
            )
            for key in keys[:limit]
        ]
        return WorkflowPage(items=items, next_cursor=items[-1].key if len(keys) > limit else None)

    def archive_workflow(self, key: str, now: datetime) -> bool | None:
        self.check()
        stored = self.workflows.get(key)
        if stored is None:
            return None
        if stored.built_in:
            return False
        stored.archived_at = stored.archived_at or now
        stored.updated_at = now
        return True
