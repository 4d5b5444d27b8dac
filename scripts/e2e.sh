#!/usr/bin/env bash
# `make e2e`: the end-to-end tests against the stack on LocalStack.
#   1. `make up`'s script (a fresh machine installs everything; a running stack gets a no-op update)
#   2. tests/e2e (NOTIFY_E2E_REQUIRED=1: a stack that is not there fails them instead of skipping)
#   3. localstack/tests: the host executor's own tests, on the same LocalStack
#   4. tests/faults: the fault suite on the same stack (each scenario breaks one thing while an event is
#      delivered, restores the stack, and prints `faults: <scenario>: recipients N, sent N, lost 0,
#      duplicates D` in pytest's summary)
#   5. scripts/fuzz.sh: schemathesis against the stack's API
#   6. make bench-smoke's run: every bench/*.py at a small size, on the same stack (fails when one
#      does not print its JSON line last; no figure is checked)
#   7. tests/least_privilege: every AWS call the functions made in steps 2-6, and every call Lambda
#      makes with their roles, judged against each function's role in the translated template
# If LocalStack was not running before, it is stopped again at the end, pass or fail.
# Arguments go to the tests/e2e pytest run (e.g. -k dead_letter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

was_running=0
if localstack/stack.sh status >/dev/null 2>&1; then was_running=1; fi
finish() {
    local status=$?
    if ((was_running == 0)); then localstack/stack.sh stop || true; fi
    exit "$status"
}
trap finish EXIT

scripts/local-up.sh
status=0
NOTIFY_E2E_REQUIRED=1 .venv/bin/python -m pytest -m e2e tests/e2e "$@" || status=$?
# The host executor's own tests give their functions 3 s: they run before the fault suite, whose
# killed processes, proxies and settling ticks leave LocalStack busy for a while after it.
.venv/bin/python -m pytest localstack/tests || status=$?
# The fault suite runs even when a test before it failed: its lines are the point of a red run too.
NOTIFY_E2E_REQUIRED=1 .venv/bin/python -m pytest -m faults tests/faults || status=$?
scripts/fuzz.sh || status=$?
.venv/bin/python -m notify_dev.bench_suite smoke || status=$?
NOTIFY_E2E_REQUIRED=1 .venv/bin/python -m pytest -m e2e -s tests/least_privilege || status=$?
exit "$status"
