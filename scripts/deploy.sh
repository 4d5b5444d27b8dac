#!/usr/bin/env bash
# `make deploy`: the stack on your AWS account (your AWS CLI credentials and profile), from
# samconfig.toml's configuration (CONFIG_ENV, production by default): `sam build`, `sam deploy`, then
# one invoke of the Migrate function (the database sits in the VPC, out of the deploy's reach).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
config_env="${1:-production}"
# shellcheck source=../localstack/lib.sh
source localstack/lib.sh
install_sam .local/sam-venv
read -r stack region < <(.venv/bin/python -c '
import sys, tomllib
parameters = tomllib.load(open("samconfig.toml", "rb"))[sys.argv[1]]["deploy"]["parameters"]
print(parameters["stack_name"], parameters["region"])' "$config_env")
PATH="$(dirname "$(python313)"):$PATH" .local/sam-venv/bin/sam build --template-file template.yaml
.local/sam-venv/bin/sam deploy --config-env "$config_env"
echo "deploy: the schema's missing migrations (${stack}-migrate)"
.venv/bin/python - "$stack" "$region" <<'PY'
import json, sys
import boto3
stack, region = sys.argv[1:]
answer = boto3.client("lambda", region_name=region).invoke(FunctionName=f"{stack}-migrate")
print(json.loads(answer["Payload"].read()))
if answer.get("FunctionError"):
    sys.exit(1)
PY
