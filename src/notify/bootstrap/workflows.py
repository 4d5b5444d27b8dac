"""The composition's workflow parts: the workflows' store, the versions kept with their compiled
templates, the service's own templates, the runs, and what a preview reads of the directory."""

from notify import built_once
from notify.adapters.postgres import PostgresDirectory, PostgresRuns, PostgresWorkflows
from notify.bootstrap.platform import Platform, storage_port
from notify.workflows import KeptVersions, PreviewDirectory, RunStore, ServiceTemplates, WorkflowStore


class WorkflowParts(Platform):
    @storage_port
    def workflows(self) -> WorkflowStore:
        return self._repository(PostgresWorkflows)

    @built_once
    def kept_versions(self) -> KeptVersions:
        """Versions read once and kept with their compiled templates (a version never changes)."""
        return KeptVersions(self.workflows)

    @built_once
    def service_templates(self) -> ServiceTemplates:
        return ServiceTemplates()

    @storage_port
    def runs(self) -> RunStore:
        return self._repository(PostgresRuns)

    @storage_port
    def preview_directory(self) -> PreviewDirectory:
        return self._repository(PostgresDirectory)
