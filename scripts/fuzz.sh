#!/usr/bin/env bash
# `make fuzz`: schemathesis (pinned in the dev dependencies) against the deployed local API, from its
# own OpenAPI document, with the local admin key of .local/endpoints.json. Checks: no 5xx for any
# input (not_a_server_error) and no protected route answering without a key (ignored_auth). Fixed
# seed, at most FUZZ_MAX_TIME seconds (170). Key management is left out, so that the run cannot revoke
# the stack's own key. It writes what it generates (directory rows, events, preferences) into the
# stack's database: it runs last in `make e2e`. Prints `fuzz: N cases, F failures` last.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
read -r API KEY < <("$PY" -c 'from notify_dev.endpoints import load_endpoints as l; e = l(); print(e["api_url"], e["api_key"])')
log=.local/fuzz.log
status=0
.venv/bin/schemathesis run "$API/openapi.json" --url "$API" \
    --header "Authorization: Bearer $KEY" \
    --checks not_a_server_error,ignored_auth \
    --seed "${FUZZ_SEED:-12}" --max-examples "${FUZZ_MAX_EXAMPLES:-30}" --max-time "${FUZZ_MAX_TIME:-170}" \
    --exclude-path /keys --exclude-path '/keys/{key_id}' \
    --no-color "$@" > "$log" 2>&1 || status=$?
sed -n '/^=* *SUMMARY/,$p' "$log"
cases=$(grep -oE '[0-9]+ generated' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
failures=$(grep -oE '[0-9]+ failed' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
if ((status != 0)); then grep -E "^_+ |Failed|Reproduce|curl" "$log" | head -n 60 || true; fi
echo "fuzz: $cases cases, $failures failures (schemathesis exit $status; whole log: $log)"
exit "$status"
