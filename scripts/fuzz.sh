#!/usr/bin/env bash
# `make fuzz`: schemathesis (pinned in the dev dependencies) against the deployed local API, from its
# own OpenAPI document, with the local admin key of .local/endpoints.json. Checks: no 5xx for any
# input (not_a_server_error), no protected route answering without a key (ignored_auth), and every
# answer the one the document declares: its status, its Content-Type and its body's schema
# (status_code_conformance, content_type_conformance, response_schema_conformance). Fixed
# seed, at most FUZZ_MAX_TIME seconds (170). Key management is left out, so that the run cannot revoke
# the stack's own key. It writes what it generates (directory rows, events, preferences) into the
# stack's database: it runs last in `make e2e`.
# Then what the document does not describe (notify_dev.beyond_schema, written byte for byte): every
# route's path variants without a key and with a key of another scope, methods a route does not allow,
# oversized and control-character headers; no 5xx, and nothing past the access check without its key.
# Prints `fuzz: N cases, F failures` last, both parts together.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
read -r API KEY < <("$PY" -c 'from notify_dev.endpoints import load_endpoints as l; e = l(); print(e["api_url"], e["api_key"])')
log=.local/fuzz.log
status=0
.venv/bin/schemathesis run "$API/openapi.json" --url "$API" \
    --header "Authorization: Bearer $KEY" \
    --checks not_a_server_error,ignored_auth,status_code_conformance,content_type_conformance,response_schema_conformance \
    --seed "${FUZZ_SEED:-12}" --max-examples "${FUZZ_MAX_EXAMPLES:-30}" --max-time "${FUZZ_MAX_TIME:-170}" \
    --exclude-path /keys --exclude-path '/keys/{key_id}' \
    --no-color "$@" > "$log" 2>&1 || status=$?
sed -n '/^=* *SUMMARY/,$p' "$log"
cases=$(grep -oE '[0-9]+ generated' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
failures=$(grep -oE '[0-9]+ failed' "$log" | tail -n1 | grep -oE '[0-9]+' || echo 0)
if ((status != 0)); then grep -E "^_+ |Failed|Reproduce|curl" "$log" | head -n 60 || true; fi
echo "fuzz: schemathesis: $cases cases, $failures failures (exit $status; whole log: $log)"
beyond_status=0
"$PY" -m notify_dev.beyond_schema > .local/fuzz-beyond.log 2>&1 || beyond_status=$?
tail -n 61 .local/fuzz-beyond.log
beyond_cases=$(grep -oE '^beyond-schema: [0-9]+ cases' .local/fuzz-beyond.log | grep -oE '[0-9]+' || echo 0)
beyond_failures=$(grep -oE '[0-9]+ failures$' .local/fuzz-beyond.log | grep -oE '[0-9]+' || echo 0)
((beyond_status == 0)) || ((beyond_failures > 0)) || beyond_failures=1
((status != 0)) || status=$beyond_status
echo "fuzz: $((cases + beyond_cases)) cases, $((failures + beyond_failures)) failures"
exit "$status"
