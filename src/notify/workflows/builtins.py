"""The built-in workflows: the four cinema event types, seeded as version 1 of a workflow each.

Their definitions are data (builtin_workflows.json: steps, texts, controls). The controls the
deployment configures (NOTIFY_MAX_AGE_SECONDS, NOTIFY_FREQUENCY_CAPS, NOTIFY_DIGEST_WINDOW_SECONDS,
per event type) take the place of the file's when the seed is written: after that the stored
versions are the source of truth, changed through PUT /workflows/{key}."""

import json
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from notify.workflows.models import MAX_AGE_SECONDS, MAX_SECONDS, WorkflowDefinition
from notify.workflows.ports import WorkflowVersion

SHIPPED_AT = datetime(2026, 12, 7, tzinfo=UTC)  # when the built-ins became workflows


@cache
def _seed_file() -> dict[str, dict[str, Any]]:
    text = files("notify.workflows").joinpath("builtin_workflows.json").read_text(encoding="utf-8")
    documents: dict[str, dict[str, Any]] = json.loads(text)
    return documents


def builtin_definitions(
    max_age_s: dict[str, int] | None = None,
    caps: dict[str, dict[str, tuple[int, int]]] | None = None,
    digest_windows_s: dict[str, int] | None = None,
) -> dict[str, WorkflowDefinition]:
    """Each built-in's first version, with the configured controls where they are given (a mapping
    given replaces the file's for every built-in: a type it leaves out has none)."""
    definitions = {}
    for key, document in _seed_file().items():
        controls = dict(document.get("controls", {}))
        # A setting is a seed: one the controls cannot hold is brought within them (none at or below
        # 0, at most the longest allowed), so that no configuration stops the migrations.
        if max_age_s is not None:
            controls["max_age_seconds"] = _within(max_age_s.get(key), MAX_AGE_SECONDS)
        if caps is not None:
            controls["frequency_caps"] = {
                channel: [min(limit, 10_000), _within(window, MAX_AGE_SECONDS)]
                for channel, (limit, window) in caps.get(key, {}).items()
                if limit >= 1 and window >= 1
            }
        if digest_windows_s is not None:
            controls["digest_window_seconds"] = _within(digest_windows_s.get(key), MAX_SECONDS)
        definitions[key] = WorkflowDefinition.model_validate({**document, "controls": controls})
    return definitions


def _within(seconds: int | None, longest: int) -> int | None:
    return None if seconds is None or seconds <= 0 else min(seconds, longest)


class ShippedBuiltIns:
    """WorkflowVersions of the built-ins as shipped (each its version 1), with no store: for tools and
    tests that render or screen without a database."""

    def __init__(self, definitions: dict[str, WorkflowDefinition] | None = None) -> None:
        self._definitions = definitions if definitions is not None else builtin_definitions()

    def current_version(self, key: str) -> WorkflowVersion | None:
        return self.find_version(key, 1)

    def find_version(self, key: str, version: int) -> WorkflowVersion | None:
        definition = self._definitions.get(key)
        if definition is None or version != 1:
            return None
        return WorkflowVersion(key, 1, True, SHIPPED_AT, definition)
