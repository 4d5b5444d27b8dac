"""Packaging: the layer asks for what pyproject.toml asks for, the template wires every route and
queue, and the handlers stay thin."""

import ast
import importlib
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from notify import bootstrap

ROOT = Path(__file__).resolve().parents[2]


def _requirements(lines: list[str]) -> set[str]:
    return {line.strip() for line in lines if line.strip() and not line.strip().startswith("#")}


def test_layer_requirements_match_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = _requirements((ROOT / "src" / "requirements.txt").read_text().splitlines())
    assert layer == set(project)


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation's short-form tags (!Ref, !Sub, …) as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_template_routes_every_api_path_to_ingest() -> None:
    from notify.entrypoints.http import app

    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506 - safe subclass
    events = template["Resources"]["IngestFunction"]["Properties"]["Events"].values()
    routed = {(event["Properties"]["Path"], event["Properties"]["Method"].upper()) for event in events}
    schema = app.get_openapi_schema()
    served = {
        (path, method.upper())
        for path, item in (schema.paths or {}).items()
        for method in item.model_dump(exclude_none=True)
    }
    assert served <= routed
    assert ("/openapi.json", "GET") in routed


def test_template_has_a_queue_and_dlq_per_channel_and_tier() -> None:
    from notify.channels import all_queue_names

    template = (ROOT / "template.yaml").read_text()
    for queue in all_queue_names("${QueuePrefix}"):
        assert f'QueueName: !Sub "{queue}"' in template
        assert f'QueueName: !Sub "{queue}-dlq"' in template


HANDLERS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
_CLIENT_LIBRARIES = {"boto3", "botocore", "pika", "psycopg", "psycopg_pool"}


@pytest.mark.parametrize("function", HANDLERS)
def test_handler_module_is_thin_and_composes_nothing_at_import(
    function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler imports no client library itself, and importing it (sockets refused by the
    unit-test fixture) neither connects nor builds the composition root."""
    path = ROOT / "functions" / function / "app.py"
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported & _CLIENT_LIBRARIES == set()

    name = f"functions.{function}.app"
    monkeypatch.delitem(sys.modules, name, raising=False)  # imported afresh, the original put back after
    module = importlib.import_module(name)
    assert callable(module.lambda_handler)
    assert bootstrap._current is None


class _RefLoader(_CfnLoader):
    """_CfnLoader that keeps `!Ref Name` as {"Ref": "Name"}."""


_RefLoader.add_constructor("!Ref", lambda loader, node: {"Ref": loader.construct_scalar(node)})  # type: ignore[arg-type]


def test_template_caps_each_senders_tiers_so_low_cannot_take_all_of_it() -> None:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_RefLoader)  # noqa: S506 - safe subclass
    defaults = {name: spec.get("Default") for name, spec in template["Parameters"].items()}
    for function in ("SendEmailFunction", "SendSmsFunction", "SendPushFunction"):
        events = template["Resources"][function]["Properties"]["Events"]
        caps = {
            name: defaults[event["Properties"]["ScalingConfig"]["MaximumConcurrency"]["Ref"]]
            for name, event in events.items()
        }
        assert caps["Low"] < caps["Normal"] < caps["High"], function
        assert caps["Low"] >= 2  # SQS event sources take 2 at the least
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["NOTIFY_SEND_CONCURRENCY"] == {"Ref": "SendConcurrency"}
    assert defaults["SendConcurrency"] >= 16
    assert variables["NOTIFY_LOW_TIER_SEND_CONCURRENCY"] == {"Ref": "LowTierSendConcurrency"}
    assert defaults["LowTierSendConcurrency"] < defaults["SendConcurrency"]


def test_template_passes_the_environment_and_keeps_local_by_default() -> None:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506 - safe subclass
    parameter = template["Parameters"]["Environment"]
    assert parameter["Default"] == "local"
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "NOTIFY_ENVIRONMENT" in variables
    assert "secretsmanager" in (ROOT / "template.yaml").read_text()


def test_template_routes_exactly_the_routes_the_access_table_names() -> None:
    from notify.entrypoints.http.access import ROUTE_SCOPES

    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)  # noqa: S506 - safe subclass
    events = template["Resources"]["IngestFunction"]["Properties"]["Events"].values()
    routed = {(event["Properties"]["Path"], event["Properties"]["Method"].upper()) for event in events}
    # /docs is served by `make api` and the in-process API only: API Gateway has no route for it.
    assert {(path, method) for method, path in ROUTE_SCOPES} - {("/docs", "GET")} == routed
