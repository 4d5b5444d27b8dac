"""The capability packages' public surface: every name an __init__ lists is found, from the module
it names, and only on first use, so that a model or a port taken from a package loads none of its
logic (the Migrate function loads neither the renderer's libraries nor croniter)."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAPABILITIES = ("outbox", "events", "scheduling", "delivery", "feedback", "access")


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_every_public_name_is_the_object_its_module_defines(capability: str) -> None:
    package = importlib.import_module(f"notify.{capability}")
    homes: dict[str, str] = package._HOMES

    assert sorted(package.__all__) == sorted(homes) != []
    for name, home in homes.items():
        assert home.startswith(f"notify.{capability}.")
        assert getattr(package, name) is getattr(importlib.import_module(home), name)


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    package = importlib.import_module("notify.delivery")

    with pytest.raises(AttributeError, match="no_such_name"):
        package.no_such_name  # noqa: B018 - the lookup is the test


def test_the_migrate_function_loads_no_capability_logic_nor_its_libraries() -> None:
    heavy = (
        "jinja2",
        "babel",
        "croniter",
        "notify.delivery.rendering",
        "notify.delivery.deliver",
        "notify.events.ingest",
        "notify.scheduling.schedules",
        "notify.feedback.intake",
    )
    code = f"import sys, notify.entrypoints.migrate; print([m for m in {heavy!r} if m in sys.modules])"
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=environment
    )

    assert loaded.stdout.strip() == "[]"
