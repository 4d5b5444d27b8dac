"""template.yaml as CloudFormation receives it, and the stack it was deployed as.

The translation is made by the SAM CLI's own translator (notify_dev.sam_translate, run with the
SAM CLI's Python, installed as `make up` installs it), so it is the template `sam deploy` sends. It is
kept in .local/translated/ under the hash of the template and of the script.
"""

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from notify_dev.endpoints import ROOT, aws
from notify_dev.intrinsics import Deployment, Resolver

TEMPLATE = ROOT / "template.yaml"
SAM_VENV = ROOT / ".local" / "sam-venv"
_SCRIPT = Path(__file__).with_name("sam_translate.py")
_CACHE = ROOT / ".local" / "translated"


def install_sam() -> Path:
    """The SAM CLI's Python (installed first when missing or its pins changed)."""
    subprocess.run(
        ["bash", "-c", 'source localstack/lib.sh && install_sam "$1"', "install_sam", str(SAM_VENV)],
        check=True,
        cwd=ROOT,
    )
    return SAM_VENV / "bin" / "python"


def translated_template(path: Path = TEMPLATE) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes() + _SCRIPT.read_bytes()).hexdigest()[:16]
    cached = _CACHE / f"{path.stem}-{digest}.json"
    if not cached.exists():
        python = install_sam()
        translation = subprocess.run(
            [str(python), str(_SCRIPT), str(path)], check=True, capture_output=True, text=True
        ).stdout
        _CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.part")
        partial.write_text(translation, encoding="utf-8")
        partial.replace(cached)
    translated: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
    return translated


def deployed_stack(stack_name: str = "notify") -> tuple[Deployment, float]:
    """The stack on LocalStack as the intrinsics resolve against it, and when it last changed (epoch s)."""
    cloudformation = aws("cloudformation")
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    physical: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        physical |= {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in page["StackResourceSummaries"]}
    _, _, _, region, account, _ = stack["StackId"].split(":", 5)
    deployment = Deployment(
        region=region,
        account=account,
        stack_name=stack_name,
        parameters={p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])},
        physical_ids=physical,
    )
    changed = stack.get("LastUpdatedTime") or stack["CreationTime"]
    return deployment, changed.timestamp()


# The property that names each kind of resource, and how its physical id follows from that name.
_NAMED = {
    "AWS::SQS::Queue": ("QueueName", "http://sqs.{region}.localhost:4566/{account}/{name}"),
    "AWS::SNS::Topic": ("TopicName", "arn:aws:sns:{region}:{account}:{name}"),
    "AWS::Lambda::Function": ("FunctionName", "{name}"),
    "AWS::Logs::LogGroup": ("LogGroupName", "{name}"),
    "AWS::SES::ConfigurationSet": ("Name", "{name}"),
}


def named_deployment(
    template: dict[str, Any],
    parameters: dict[str, str],
    region: str = "us-east-1",
    account: str = "123456789012",
) -> Deployment:
    """A deployment made up from the names the template gives its resources, for checks with no stack:
    each physical id is what AWS would make of the resource's name (an unnamed one keeps its logical id)."""
    unnamed = Deployment(region, account, "notify", parameters, physical_ids={})
    resolver = Resolver(template, unnamed)
    physical: dict[str, str] = {}
    for logical, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind in _NAMED and _NAMED[kind][0] in resource.get("Properties", {}):
            key, shape = _NAMED[kind]
            name = resolver.resolve(resource["Properties"][key])
            physical[logical] = shape.format(region=region, account=account, name=name)
        elif kind == "AWS::IAM::ManagedPolicy":
            physical[logical] = f"arn:aws:iam::{account}:policy/{logical}"
        else:
            physical[logical] = logical
    return Deployment(region, account, "notify", parameters, physical_ids=physical)
