"""Workflows: what each event type does, as data saved through the API. A workflow's versions are
immutable: its steps (sends, delays, waits, with conditions on an earlier send), its templates per
channel and locale (rendered in a sandbox), its recipient controls and its tracking. The four cinema
event types are built-in workflows, seeded from builtin_workflows.json.

What this module exports is the package's public surface: code outside the package imports only
these names (an import-linter contract holds it)."""

from typing import TYPE_CHECKING

from notify import lazy_exports

if TYPE_CHECKING:
    from notify.workflows.advancing import (
        RunPolicy,
        RunReport,
        advance_runs,
    )
    from notify.workflows.builtins import (
        ShippedBuiltIns,
        builtin_definitions,
    )
    from notify.workflows.catalog import (
        KeptVersions,
        PreviewDirectory,
        archive_workflow,
        describe_run,
        describe_workflow,
        page_workflows,
        preview_workflow,
        put_workflow,
        read_version,
    )
    from notify.workflows.filters import (
        movie_label,
    )
    from notify.workflows.models import (
        MAX_AGE_SECONDS,
        MAX_SECONDS,
        WORKFLOW_KEY,
        WORKFLOW_KEY_PATTERN,
        WORKFLOW_KEY_RULE,
        Content,
        Controls,
        PreviewRequest,
        PreviewView,
        Recipient,
        RunView,
        WorkflowDefinition,
        WorkflowKey,
        WorkflowPage,
        WorkflowSaved,
        WorkflowSummary,
        WorkflowVersionView,
        WorkflowView,
        workflow_key,
    )
    from notify.workflows.ports import (
        AdvancedRuns,
        CurrentVersions,
        DueRun,
        RunDecision,
        RunRecord,
        RunStore,
        WorkflowRecord,
        WorkflowStore,
        WorkflowVersion,
        WorkflowVersions,
    )
    from notify.workflows.rendering import (
        CompiledTemplates,
        RenderedParts,
        ServiceTemplates,
        render_channel,
    )
    from notify.workflows.runs import (
        RunState,
        SendFacts,
        outcome_of,
    )
    from notify.workflows.sandbox import (
        TemplateProblem,
    )

_HOMES = {
    "AdvancedRuns": "notify.workflows.ports",
    "CompiledTemplates": "notify.workflows.rendering",
    "Content": "notify.workflows.models",
    "Controls": "notify.workflows.models",
    "CurrentVersions": "notify.workflows.ports",
    "DueRun": "notify.workflows.ports",
    "KeptVersions": "notify.workflows.catalog",
    "MAX_AGE_SECONDS": "notify.workflows.models",
    "MAX_SECONDS": "notify.workflows.models",
    "PreviewDirectory": "notify.workflows.catalog",
    "PreviewRequest": "notify.workflows.models",
    "PreviewView": "notify.workflows.models",
    "Recipient": "notify.workflows.models",
    "RenderedParts": "notify.workflows.rendering",
    "RunDecision": "notify.workflows.ports",
    "RunPolicy": "notify.workflows.advancing",
    "RunRecord": "notify.workflows.ports",
    "RunReport": "notify.workflows.advancing",
    "RunState": "notify.workflows.runs",
    "RunView": "notify.workflows.models",
    "describe_run": "notify.workflows.catalog",
    "RunStore": "notify.workflows.ports",
    "SendFacts": "notify.workflows.runs",
    "ServiceTemplates": "notify.workflows.rendering",
    "ShippedBuiltIns": "notify.workflows.builtins",
    "TemplateProblem": "notify.workflows.sandbox",
    "WORKFLOW_KEY": "notify.workflows.models",
    "WORKFLOW_KEY_PATTERN": "notify.workflows.models",
    "WORKFLOW_KEY_RULE": "notify.workflows.models",
    "WorkflowDefinition": "notify.workflows.models",
    "WorkflowKey": "notify.workflows.models",
    "workflow_key": "notify.workflows.models",
    "WorkflowPage": "notify.workflows.models",
    "WorkflowRecord": "notify.workflows.ports",
    "WorkflowSaved": "notify.workflows.models",
    "WorkflowStore": "notify.workflows.ports",
    "WorkflowSummary": "notify.workflows.models",
    "WorkflowVersion": "notify.workflows.ports",
    "WorkflowVersionView": "notify.workflows.models",
    "WorkflowVersions": "notify.workflows.ports",
    "WorkflowView": "notify.workflows.models",
    "advance_runs": "notify.workflows.advancing",
    "archive_workflow": "notify.workflows.catalog",
    "builtin_definitions": "notify.workflows.builtins",
    "describe_workflow": "notify.workflows.catalog",
    "movie_label": "notify.workflows.filters",
    "outcome_of": "notify.workflows.runs",
    "page_workflows": "notify.workflows.catalog",
    "preview_workflow": "notify.workflows.catalog",
    "put_workflow": "notify.workflows.catalog",
    "read_version": "notify.workflows.catalog",
    "render_channel": "notify.workflows.rendering",
}

__all__ = [
    "MAX_AGE_SECONDS",
    "MAX_SECONDS",
    "WORKFLOW_KEY",
    "WORKFLOW_KEY_PATTERN",
    "WORKFLOW_KEY_RULE",
    "AdvancedRuns",
    "CompiledTemplates",
    "Content",
    "Controls",
    "CurrentVersions",
    "DueRun",
    "KeptVersions",
    "PreviewDirectory",
    "PreviewRequest",
    "PreviewView",
    "Recipient",
    "RenderedParts",
    "RunDecision",
    "RunPolicy",
    "RunRecord",
    "RunReport",
    "RunState",
    "RunStore",
    "RunView",
    "SendFacts",
    "ServiceTemplates",
    "ShippedBuiltIns",
    "TemplateProblem",
    "WorkflowDefinition",
    "WorkflowKey",
    "WorkflowPage",
    "WorkflowRecord",
    "WorkflowSaved",
    "WorkflowStore",
    "WorkflowSummary",
    "WorkflowVersion",
    "WorkflowVersionView",
    "WorkflowVersions",
    "WorkflowView",
    "advance_runs",
    "archive_workflow",
    "builtin_definitions",
    "describe_run",
    "describe_workflow",
    "movie_label",
    "outcome_of",
    "page_workflows",
    "preview_workflow",
    "put_workflow",
    "read_version",
    "render_channel",
    "workflow_key",
]

__getattr__ = lazy_exports(__name__, _HOMES)
