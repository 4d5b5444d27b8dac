#!/usr/bin/env bash
# LocalStack on this machine without Docker, Lambda functions run as host processes.
#
#   localstack/stack.sh start    install if needed, start in the background, wait until healthy
#   localstack/stack.sh stop     stop the LocalStack this script started (and its functions)
#   localstack/stack.sh status   running or not, and the health document
#   localstack/stack.sh install  (re)create the virtualenvs only
#
# Everything lives under .local/ (git-ignored): localstack-venv (LocalStack + the host executor plugin),
# lambda-python3.13 (the functions' interpreter, with boto3 as AWS' runtime has it), localstack/ (its
# FILESYSTEM_ROOT, TMPDIR and caches), localstack.log, localstack.pid. Bound to 127.0.0.1 only.
#
# Settings (environment): LOCALSTACK_PORT (4566), LOCALSTACK_SERVICES (the list below),
# LOCALSTACK_DEBUG (0), LOCALSTACK_START_TIMEOUT seconds (90), PYTHON313 (pyenv's 3.13.0),
# LOCALSTACK_LAMBDA_EXECUTOR (host; `docker` is LocalStack's stock executor: it needs Docker, the
# public.ecr.aws/lambda/python:3.13 image, and a way for containers to reach 127.0.0.1:4566 on the host,
# which LocalStack tells them as the Docker bridge's gateway address),
# LOCALSTACK_ESM_IDLE_POLL_SEC (1: longest pause of an SQS trigger between polls of an empty queue;
# LocalStack's default 10 would add up to 10 s to each delivery after a quiet spell; 1 costs LocalStack
# ~13 % of a core while idle), LOCALSTACK_ESM_BUSY_POLL_SEC (0.1: pause after a poll that found
# messages; LocalStack's default 1 drains a backlog at 10 messages a second per queue),
# LOCALSTACK_SQS_DISABLE_CLOUDWATCH_METRICS (1: LocalStack's SQS would otherwise put CloudWatch
# metrics for every send, receive and delete, one more request and database write each: an idle
# SendMessage took 31-38 ms with them, 5.5 ms without; nothing of the stack reads them),
# LOCALSTACK_SQS_QUEUE_DEPTH_METRICS (1: the queues' depths are published each minute all the same,
# which the DLQ alarms watch: host_executor/queue_metrics.py).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
LOCAL="$ROOT/.local"
# A worktree may share another checkout's .local through a symlink: use the real path, which is what
# the running LocalStack's command line (checked by our_pid) names.
if [[ -L "$LOCAL" ]]; then LOCAL="$(readlink -f "$LOCAL")"; fi
VENV="$LOCAL/localstack-venv"
RUNTIME_VENV="$LOCAL/lambda-python3.13"
STATE="$LOCAL/localstack"
LOG="$LOCAL/localstack.log"
PIDFILE="$LOCAL/localstack.pid"
PORT="${LOCALSTACK_PORT:-4566}"
HEALTH="http://127.0.0.1:$PORT/_localstack/health"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
SERVICES="${LOCALSTACK_SERVICES:-lambda,sqs,sns,ses,events,scheduler,iam,sts,s3,ssm,secretsmanager,cloudformation,apigateway,logs,cloudwatch}"

install_hash() {
    cat "$HERE/requirements.txt" "$HERE/requirements.lock.txt" "$HERE/runtime-requirements.txt" \
        "$HERE/host_executor/pyproject.toml" | sha256sum | cut -c1-16
}

clear_plux_cache() {
    # plux caches entry points; a stale index hides a newly installed plugin
    rm -rf "$STATE/cache/plux" "$HOME/.cache/plux"
}

install() {
    local py hash
    hash="$(install_hash)"
    if [[ -f "$VENV/.installed" && "$(cat "$VENV/.installed")" == "$hash" && -x "$RUNTIME_VENV/bin/python" ]]; then
        return 0
    fi
    py="$(python313)"
    mkdir -p "$LOCAL"
    echo "stack.sh: installing LocalStack into $VENV (Python $("$py" -c 'import platform; print(platform.python_version())'))"
    [[ -x "$VENV/bin/python" ]] || "$py" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$HERE/requirements.txt" -c "$HERE/requirements.lock.txt" 2> >(grep -v "^WARNING: Location" >&2)
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        -e "$HERE/host_executor" 2> >(grep -v "^WARNING: Location" >&2)
    [[ -x "$RUNTIME_VENV/bin/python" ]] || "$py" -m venv "$RUNTIME_VENV"
    "$RUNTIME_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$HERE/runtime-requirements.txt" 2> >(grep -v "^WARNING: Location" >&2)
    clear_plux_cache
    echo "$hash" > "$VENV/.installed"
}

# pid of the LocalStack this script started, if it still runs
our_pid() { pid_from_file "$PIDFILE" "$VENV/bin/python -m localstack.runtime.main"; }

port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

healthy() {
    curl --silent --fail --max-time 2 --noproxy '*' "$HEALTH" >/dev/null 2>&1
}

start() {
    local pid
    if pid="$(our_pid)"; then
        if healthy; then echo "stack.sh: LocalStack already running (pid $pid) on 127.0.0.1:$PORT"; return 0; fi
    elif port_taken; then
        echo "stack.sh: another process already listens on 127.0.0.1:$PORT; not starting" >&2
        return 1
    fi
    install
    if [[ -z "${pid:-}" ]]; then
        mkdir -p "$STATE/fs" "$STATE/tmp" "$STATE/cache"
        local started=$SECONDS
        # /.dockerenv exists here, so LocalStack would think it runs in its container (and wipe
        # /tmp/localstack): OVERRIDE_IN_DOCKER=0 and paths of our own. No step may reach the internet.
        (
            cd "$STATE"
            exec env \
                OVERRIDE_IN_DOCKER=0 \
                FILESYSTEM_ROOT="$STATE/fs" \
                TMPDIR="$STATE/tmp" \
                XDG_CACHE_HOME="$STATE/cache" \
                GATEWAY_SERVER="${LOCALSTACK_GATEWAY_SERVER:-twisted}" \
                GATEWAY_LISTEN="127.0.0.1:$PORT" \
                LOCALSTACK_HOST="127.0.0.1:$PORT" \
                SERVICES="$SERVICES" \
                DNS_ADDRESS=0 \
                SKIP_SSL_CERT_DOWNLOAD=1 \
                DISABLE_EVENTS=1 \
                SQS_DISABLE_CLOUDWATCH_METRICS="${LOCALSTACK_SQS_DISABLE_CLOUDWATCH_METRICS:-1}" \
                LOCALSTACK_SQS_QUEUE_DEPTH_METRICS="${LOCALSTACK_SQS_QUEUE_DEPTH_METRICS:-1}" \
                IN_MEMORY_CLIENT="${LOCALSTACK_IN_MEMORY_CLIENT:-0}" \
                DEBUG="${LOCALSTACK_DEBUG:-0}" \
                LAMBDA_RUNTIME_EXECUTOR="${LOCALSTACK_LAMBDA_EXECUTOR:-host}" \
                LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC="${LOCALSTACK_ESM_IDLE_POLL_SEC:-1}" \
                LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC="${LOCALSTACK_ESM_BUSY_POLL_SEC:-0.1}" \
                LAMBDA_HOST_PYTHON_3_13="$RUNTIME_VENV/bin/python" \
                setsid "$VENV/bin/python" -m localstack.runtime.main
        ) >>"$LOG" 2>&1 </dev/null &
        pid=$!
        echo "$pid" > "$PIDFILE"
        echo "stack.sh: starting LocalStack (pid $pid), log $LOG"
    fi
    local waited=0
    wait_until "${LOCALSTACK_START_TIMEOUT:-90}" 0.2 "$pid" healthy || waited=$?
    if ((waited == 2)); then
        echo "stack.sh: LocalStack exited during start-up; last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
        rm -f "$PIDFILE"
        return 1
    elif ((waited == 1)); then
        echo "stack.sh: LocalStack not healthy after ${LOCALSTACK_START_TIMEOUT:-90} s; stopping it, see $LOG" >&2
        stop >&2
        return 1
    fi
    echo "stack.sh: LocalStack ready on http://127.0.0.1:$PORT${started:+ after $((SECONDS - started)) s}"
}

stop() {
    local pid
    if ! pid="$(our_pid)"; then
        echo "stack.sh: no LocalStack started by this script is running"
        rm -f "$PIDFILE"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    await_exit "$pid" 10 "-$pid" || echo "stack.sh: LocalStack (pid $pid) did not stop in 10 s; killed its process group"
    # function processes die with LocalStack (they watch a pipe it holds)
    rm -f "$PIDFILE"
    echo "stack.sh: LocalStack stopped"
}

status() {
    local pid
    if pid="$(our_pid)"; then
        echo "running (pid $pid)"
        curl --silent --max-time 2 --noproxy '*' "$HEALTH" || true
        echo
    else
        echo "not running"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    install) install ;;
    *) echo "usage: $0 start|stop|status|install" >&2; exit 2 ;;
esac
