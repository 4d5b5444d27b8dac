"""cfn-lint on what CloudFormation receives: template.yaml translated by the SAM translator (as `sam
deploy` does), once per configuration of samconfig.toml, each configuration's parameter values in
place of the defaults (so that conditions, rules and values are read as that deployment would).

cfn-lint 1.58 no longer expands SAM itself. Informational checks run too; one is set aside with its
reason: I3042 (a hard-coded partition) in what the translator writes (API Gateway's permissions and
the API's OpenAPI body), where SAM writes `arn:aws:` for the region it translates in.

    python -m notify_dev.template_lint           # both configurations; exit 1 on any finding
    python -m notify_dev.template_lint --parameters local   # the configuration's overrides, a line each
"""

import argparse
import copy
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from notify_dev.endpoints import ROOT
from notify_dev.translated import TEMPLATE, translated_template

SAMCONFIG = ROOT / "samconfig.toml"
CONFIGURATIONS = ("local", "production")
_GENERATED_PARTITION = "I3042"
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


def configuration(name: str, path: Path = SAMCONFIG) -> dict[str, str]:
    """The parameter values samconfig.toml's `name` configuration deploys with."""
    overrides = tomllib.loads(path.read_text())[name]["deploy"]["parameters"]["parameter_overrides"]
    items = overrides.split() if isinstance(overrides, str) else overrides
    return dict(str(item).split("=", 1) for item in items)


def with_parameters(template: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The template with `values` as its parameters' defaults; a name it does not declare is refused."""
    configured = copy.deepcopy(template)
    declared = configured["Parameters"]
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ValueError(f"parameters the template does not declare: {unknown}")
    for name, value in values.items():
        number = declared[name].get("Type") == "Number"
        declared[name]["Default"] = int(value) if number and value.isdigit() else value
    return configured


def _source_resources() -> set[str]:
    class _Loader(yaml.SafeLoader):
        pass

    # The short forms (!Ref, !Sub, ...) are read as plain values: only the resources' names matter.
    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return set(yaml.load(TEMPLATE.read_text(), Loader=_Loader)["Resources"])  # noqa: S506 - SafeLoader subclass


def lint(name: str) -> list[str]:
    translated = with_parameters(translated_template(), configuration(name))
    path = ROOT / ".local" / "translated" / f"lint-{name}.json"
    path.write_text(json.dumps(translated, indent=1))
    run = subprocess.run(
        [CFN_LINT, "--format", "json", "--include-checks", "I", "--", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint's exit code is a bit field of what it found (2 errors, 4 warnings, 8 informational); 1
    # is a failure to run.
    if run.returncode & 1 or (run.returncode and not run.stdout.strip()):
        raise RuntimeError(f"cfn-lint failed to run ({run.returncode}): {run.stderr.strip()[-2000:]}")
    if not run.stdout.strip():
        return []
    ours = _source_resources()
    findings = []
    for match in json.loads(run.stdout):
        rule = match["Rule"]["Id"]
        path_in_template = match["Location"].get("Path") or []
        in_resources = len(path_in_template) > 1 and path_in_template[0] == "Resources"
        resource = path_in_template[1] if in_resources else ""
        written_by_sam = resource not in ours or path_in_template[3:4] == ["Body"]
        if rule == _GENERATED_PARTITION and resource and written_by_sam:
            continue
        line = match["Location"]["Start"]["LineNumber"]
        message = match["Message"] if len(match["Message"]) < 300 else match["Message"][:300] + "..."
        findings.append(f"{name}: {rule} {message} ({resource or path_in_template}, line {line})")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notify_dev.template_lint")
    parser.add_argument("--parameters", choices=CONFIGURATIONS, help="print a configuration's overrides")
    args = parser.parse_args(argv)
    if args.parameters:
        print("\n".join(f"{key}={value}" for key, value in configuration(args.parameters).items()))
        return 0
    findings = [finding for name in CONFIGURATIONS for finding in lint(name)]
    print("\n".join(findings) if findings else f"cfn-lint: {', '.join(CONFIGURATIONS)}: no findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
