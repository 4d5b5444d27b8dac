"""Translate a SAM template to CloudFormation the way `sam deploy` does, and print it as JSON.

Run with the SAM CLI's Python (.local/sam-venv/bin/python), whose aws-sam-translator is the one that
deploys the stack: it pins a pydantic the project's .venv cannot share. It imports nothing of the
project. notify_dev.translated runs it and caches the result.
"""

import json
import os
import sys
from typing import Any

from samtranslator.translator.transform import transform  # type: ignore[import-not-found]
from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-not-found]


class _NoNamedManagedPolicies:
    """The template names no AWS managed policy by its bare name, so no IAM lookup is needed."""

    def load(self) -> dict[str, str]:
        return {}


# What `sam package` would upload: the translator accepts only S3 locations for these.
_LOCAL_CODE = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def _as_packaged(template: dict[str, Any]) -> dict[str, Any]:
    for name, resource in template.get("Resources", {}).items():
        key = _LOCAL_CODE.get(resource.get("Type", ""))
        properties = resource.get("Properties", {})
        if key and isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
            properties[key] = f"s3://packaged/{name}.zip"
    return template


def main(path: str) -> None:
    # The translator asks boto for a region only to pick the partition (aws) of the ARNs it writes.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path, encoding="utf-8") as source:
        template: dict[str, Any] = yaml_parse(source.read())
    json.dump(
        transform(_as_packaged(template), {}, _NoNamedManagedPolicies()), sys.stdout, indent=1, sort_keys=True
    )


if __name__ == "__main__":
    main(sys.argv[1])
