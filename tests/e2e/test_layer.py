"""The layer `sam build` made for `make up` (.aws-sam/build, the one deployed) ships the runtime package and
its dependencies, and none of the development tools: not the notify_dev package (the generator, the local
stack's client code), not the tests or benchmarks, not the dev-only libraries."""

from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import REQUIRED

ROOT = Path(__file__).resolve().parents[2]
BUILT_TEMPLATE = ROOT / ".aws-sam" / "build" / "template.yaml"
# Top-level names on the layer's sys.path that only development needs.
DEV_ONLY = {
    "notify_dev",
    "tests",
    "bench",
    "devtools",
    "scripts",
    "pytest",
    "_pytest",
    "moto",
    "mypy",
    "ruff",
}
DEV_ONLY |= {"importlinter", "grimp", "yaml"}

pytestmark = pytest.mark.e2e


class _CfnLoader(yaml.SafeLoader):
    """Keeps CloudFormation's short-form tags (!Ref, !Sub, …) as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


@pytest.fixture(scope="module")
def layer_python() -> Path:
    if not BUILT_TEMPLATE.exists():
        if REQUIRED:
            pytest.fail(f"{BUILT_TEMPLATE} is missing: `make up` builds it")
        pytest.skip("no sam build yet: run `make up`")
    template = yaml.load(BUILT_TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 - safe subclass
    content = str(template["Resources"]["NotifyLayer"]["Properties"]["ContentUri"])
    return BUILT_TEMPLATE.parent / content / "python"


def _top_level_names(directory: Path) -> set[str]:
    return {path.name.removesuffix(".py") for path in directory.iterdir() if not path.name.endswith("-info")}


def test_layer_ships_the_runtime_package_and_its_dependencies(layer_python: Path) -> None:
    names = _top_level_names(layer_python)
    assert {"notify", "boto3", "psycopg", "pydantic", "pika", "jinja2", "aws_lambda_powertools"} <= names
    assert (layer_python / "notify" / "bootstrap" / "__init__.py").is_file()
    assert (layer_python / "notify" / "adapters" / "postgres" / "versions" / "0001_baseline.sql").is_file()
    assert (layer_python / "yoyo" / "__init__.py").is_file()  # the Migrate function applies with it
    assert any((layer_python / "notify" / "templates" / "email").glob("*.html"))


def test_layer_holds_no_development_tool(layer_python: Path) -> None:
    assert _top_level_names(layer_python) & DEV_ONLY == set()
    runtime_modules = {
        str(path.relative_to(layer_python)) for path in (layer_python / "notify").rglob("*.py")
    }
    assert not any("generate" in module or "localdev" in module for module in runtime_modules)
    source_modules = {str(path.relative_to(ROOT / "src")) for path in (ROOT / "src" / "notify").rglob("*.py")}
    assert runtime_modules == source_modules, "the layer's notify package is src/notify, no more, no less"
