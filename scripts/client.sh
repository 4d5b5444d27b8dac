#!/usr/bin/env bash
# The Python SDK (clients/python), generated from the API's OpenAPI document by openapi-python-client,
# pinned with everything it runs in clients/generator/requirements.txt (its own venv: .local/client-venv).
#   scripts/client.sh generate   write clients/openapi.json and clients/python from this checkout's API
#   scripts/client.sh check      generate into a temporary directory; exit 1 when it differs from
#                                what is checked in (the document or the client is stale: make client)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode=${1:-generate}
venv=.local/client-venv
requirements=clients/generator/requirements.txt
if [[ ! -x $venv/bin/openapi-python-client || $requirements -nt $venv/.installed ]]; then
    mkdir -p .local
    "$(source localstack/lib.sh && python313)" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" 2> >(grep -v '^WARNING: Location' >&2)
    touch "$venv/.installed"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
.venv/bin/python -c 'import json, sys
from notify.entrypoints.http.api import openapi_document
json.dump(openapi_document(), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
print()' > "$out/openapi.json"
# The generator runs its post hooks (ruff) from PATH: its own pinned ruff, never the project's.
PATH="$PWD/$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate --path "$out/openapi.json" \
    --config clients/generator/config.yaml --meta setup --output-path "$out/python" > "$out/log" 2>&1 \
    || { cat "$out/log"; exit 1; }
rm -rf "$out/python/.ruff_cache"
case $mode in
    generate)
        # What pip's editable install keeps there (egg-info) stays.
        mkdir -p clients/python
        find clients/python -mindepth 1 -maxdepth 1 ! -name '*.egg-info' -exec rm -rf {} +
        cp -r "$out/python/." clients/python/
        cp "$out/openapi.json" clients/openapi.json
        echo "client: clients/python from clients/openapi.json ($(find clients/python -name '*.py' | wc -l) modules)"
        ;;
    check)
        if ! diff -q "$out/openapi.json" clients/openapi.json > /dev/null \
            || ! diff -r -q -x "*.egg-info" -x __pycache__ "$out/python" clients/python > /dev/null; then
            diff -u clients/openapi.json "$out/openapi.json" | head -n 40 || true
            diff -r -q -x "*.egg-info" -x __pycache__ clients/python "$out/python" | head -n 20 || true
            echo "client: clients/ is not what the API's document generates: run make client" >&2
            exit 1
        fi
        echo "client: clients/python is what the API's document generates"
        ;;
    *) echo "usage: scripts/client.sh [generate|check]" >&2; exit 2 ;;
esac
