#!/usr/bin/env bash
# The HTTP API through `sam local start-api`, each function in a Lambda python3.13 container, against the
# stack `make up` runs (PostgreSQL, the broker and LocalStack on 127.0.0.1).
#
#   localstack/sam-api.sh start     prepare, then `sam local start-api --warm-containers EAGER
#                                   --skip-pull-image` on 127.0.0.1:3000 in the background; waits for
#                                   GET /health, writes "sam_api_url" into .local/endpoints.json
#   localstack/sam-api.sh stop      stop it, the forwarders and the Docker engine localstack/docker.sh started
#   localstack/sam-api.sh stop-api  stop only `sam local start-api`
#   localstack/sam-api.sh status
#   localstack/sam-api.sh prepare   everything `sam local` needs, without starting it: the SAM CLI
#                                   (.local/sam-venv), a Docker engine (localstack/docker.sh), the base image
#                                   (localstack/lambda-image/build.sh), forwarders to the host's services,
#                                   `sam build`, .local/sam-api/{template.yaml,env.json}
#   localstack/sam-api.sh invoke FUNCTION [EVENT_FILE]   prepare, then `sam local invoke` (event on stdin
#                                   when no file is given); the function's result on stdout
#
# Files: .local/sam-api/ (.aws-sam/ of sam build, task/ the functions' code, template.yaml, env.json), .local/sam-api.log, .local/sam-api.pid.
# Settings (environment): SAM_API_PORT (3000), BROKER (sqs|rabbitmq, else the stack's), SAM_API_TIMEOUT
# seconds to wait for /health (180).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
LOCAL="$ROOT/.local"
STATE="$LOCAL/sam-api"
SAM_VENV="$LOCAL/sam-venv"
SAM="$SAM_VENV/bin/sam"
PY="$ROOT/.venv/bin/python"
PIDFILE="$LOCAL/sam-api.pid"
LOG="$LOCAL/sam-api.log"
PORT="${SAM_API_PORT:-3000}"
URL="http://127.0.0.1:$PORT"
TEMPLATE="$STATE/template.yaml"
ENV_FILE="$STATE/env.json"

# LocalStack's fake credentials for what SAM hands the functions; the host's ~/.aws plays no part. SAM
# asks STS for the account id before each invoke: LocalStack answers (000000000000) at once, where AWS'
# endpoint would cost ~10 s of failed lookups offline.
# shellcheck source=lib.sh
source "$HERE/lib.sh"
localstack_credentials
export AWS_ENDPOINT_URL_STS="http://127.0.0.1:${LOCALSTACK_PORT:-4566}" AWS_MAX_ATTEMPTS=1 AWS_EC2_METADATA_DISABLED=true
unset AWS_ENDPOINT_URL

say() { echo "sam-api: $*"; }
die() { echo "sam-api: $*" >&2; exit 1; }

prepare() {
    [[ -x "$PY" ]] || die "the project's .venv is missing: make venv"
    mkdir -p "$STATE"
    install_sam "$SAM_VENV"
    "$HERE/docker.sh" start
    "$HERE/lambda-image/build.sh"
    "$HERE/docker.sh" forward
    local host started=$SECONDS
    host="$("$HERE/docker.sh" host)"
    # `sam build` without a container runs pip with python3.13 from PATH (a pyenv shim would not do). It
    # runs in .local/sam-api: SAM keeps its dependency folders in ./.aws-sam/deps and deletes those another
    # build (make up's, in the project's .aws-sam) does not list.
    # Skipped when nothing it reads changed since the last build (SAM's own --cached still recopies ~3,000
    # files, ~8 s).
    local inputs
    inputs="$(cd "$ROOT" && { find template.yaml src functions -type f ! -path '*/__pycache__/*' \
        ! -path '*.egg-info/*' -print0 | sort -z | xargs -0 sha256sum; cat "$HERE/sam-requirements.lock.txt"; } \
        | sha256sum | cut -c1-16)"
    if [[ -f "$STATE/.aws-sam/build/template.yaml" && "$(cat "$STATE/.built" 2>/dev/null)" == "$inputs" ]]; then
        say "sam build: nothing changed since the last one"
    else
        rm -f "$STATE/.built"
        (cd "$STATE" && PATH="$(dirname "$(python313)"):$PATH" "$SAM" build --cached --parallel \
            --template-file "$ROOT/template.yaml" >"$STATE/build.log" 2>&1) \
            || { tail -n 30 "$STATE/build.log" >&2; die "sam build failed (log $STATE/build.log)"; }
        echo "$inputs" > "$STATE/.built"
        say "sam build in $((SECONDS - started)) s"
    fi
    "$PY" "$HERE/sam_local.py" template "$STATE/.aws-sam/build/template.yaml" "$TEMPLATE"
    local broker=()
    [[ -n "${BROKER:-}" ]] && broker=(--broker "$BROKER")
    "$PY" "$HERE/sam_local.py" env-vars --host "$host" "${broker[@]}" > "$ENV_FILE"
    say "functions reach PostgreSQL, the broker and LocalStack at $host ($ENV_FILE)"
}

our_pid() { pid_from_file "$PIDFILE" "local start-api"; }

healthy() { curl --silent --fail --max-time 5 --noproxy '*' "$URL/health" >/dev/null 2>&1; }

# SAM's containers of this checkout: an interrupted `sam local start-api` removes only some of its warm
# containers (one replaced on the first request is left running), a killed one none.
remove_containers() {
    docker info >/dev/null 2>&1 || return 0
    local id ids=()
    for id in $(docker ps -aq --filter label=sam.cli.container.type=lambda); do
        if [[ " $(docker inspect --format '{{range .Mounts}}{{.Source}} {{end}}' "$id" 2>/dev/null)" \
              == *" $STATE/task/"* ]]; then
            ids+=("$id")
        fi
    done
    ((${#ids[@]} == 0)) || docker rm -f "${ids[@]}" >/dev/null 2>&1 || true
}

stop_api() {
    local pid
    if pid="$(our_pid)"; then
        # SIGINT: SAM removes its warm containers on the way out (SIGTERM would leave them running).
        kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid" 2>/dev/null || true
        await_exit "$pid" 30 "-$pid" || true
        say "sam local start-api stopped (pid $pid)"
    fi
    remove_containers
    rm -f "$PIDFILE"
    [[ -x "$PY" ]] && "$PY" "$HERE/sam_local.py" endpoints unset sam_api_url || true
}

start() {
    [[ -f "$LOCAL/endpoints.json" ]] || die ".local/endpoints.json is missing: the stack is not up (make up)"
    local started=$SECONDS
    prepare
    stop_api >/dev/null
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "another process already listens on 127.0.0.1:$PORT (SAM_API_PORT picks another port)"
    fi
    local launched=$SECONDS
    (
        cd "$ROOT"
        exec setsid "$SAM" local start-api --template "$TEMPLATE" --env-vars "$ENV_FILE" \
            --host 127.0.0.1 --port "$PORT" --container-host 127.0.0.1 --container-host-interface 127.0.0.1 \
            --warm-containers EAGER --skip-pull-image
    ) >"$LOG" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" > "$PIDFILE"
    local waited=0
    wait_until "${SAM_API_TIMEOUT:-180}" 0.25 "$pid" healthy || waited=$?
    if ((waited == 2)); then
        rm -f "$PIDFILE"
        tail -n 30 "$LOG" >&2
        die "sam local start-api exited during start-up (log $LOG)"
    elif ((waited == 1)); then
        stop_api >&2
        die "GET $URL/health did not answer 200 within ${SAM_API_TIMEOUT:-180} s (log $LOG)"
    fi
    "$PY" "$HERE/sam_local.py" endpoints set sam_api_url "$URL"
    say "API on $URL (sam local start-api, pid $pid, log $LOG): up $((SECONDS - launched)) s after launch," \
        "$((SECONDS - started)) s in all"
}

stop() {
    stop_api
    "$HERE/docker.sh" stop
}

status() {
    local pid
    if pid="$(our_pid)"; then
        if healthy; then say "running (pid $pid) on $URL, healthy"; else say "running (pid $pid) on $URL, /health not answering 200"; fi
    else
        say "not running"
    fi
    "$HERE/docker.sh" status || true
}

invoke() {
    local function="${1:?usage: sam-api.sh invoke FUNCTION [EVENT_FILE]}" event="${2:-}"
    prepare >&2
    if [[ -n "$event" ]]; then
        # An API sample carries a sample key: the stack's database knows the local one instead.
        "$PY" "$HERE/sam_local.py" event "$event" > "$LOCAL/invoke-event.json"
        event="$LOCAL/invoke-event.json"
    fi
    local args=(local invoke "$function" --template "$TEMPLATE" --env-vars "$ENV_FILE" --skip-pull-image
        --container-host 127.0.0.1 --container-host-interface 127.0.0.1)
    if [[ -n "$event" ]]; then args+=(--event "$event"); else args+=(--event -); fi
    cd "$ROOT" && "$SAM" "${args[@]}"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    stop-api) stop_api ;;
    status) status ;;
    prepare) prepare ;;
    invoke) shift; invoke "$@" ;;
    *) echo "usage: $0 start|stop|stop-api|status|prepare|invoke FUNCTION [EVENT_FILE]" >&2; exit 2 ;;
esac
