# Shell helpers shared by the project's scripts: localstack/*.sh, localstack/lambda-image/build.sh and
# scripts/*.sh source this file (scripts/ call into localstack/, never the other way round).
# Sourced, not run; it defines functions and LIB_DIR, and changes no shell option.

LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The path of a Python 3.13 interpreter (the Lambda runtime the project targets): $PYTHON313, else the
# first python3.13 found on PATH, in pyenv's versions or in the usual system places.
python313() {
    local candidate path
    for candidate in "${PYTHON313:-}" python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 \
        /usr/local/bin/python3.13 /usr/bin/python3.13; do
        [[ -n "$candidate" ]] || continue
        if path="$(command -v "$candidate" 2>/dev/null)" \
            && "$path" -c 'import sys, venv; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            echo "$path"
            return 0
        fi
    done
    echo "no Python 3.13 found: install one (pyenv install 3.13, or your OS package) or set PYTHON313" >&2
    return 1
}

# pidfile pattern: print the pid the file records if that process still runs and its command line
# contains pattern (a pid reused by another program does not count); else fail.
pid_from_file() {
    local pidfile=$1 pattern=$2 pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile")"
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$pattern" || return 1
    echo "$pid"
}

# seconds interval pid probe...: run the probe every interval seconds until it succeeds (status 0).
# Status 1 when the seconds run out first, 2 when pid (if not empty) exits first.
wait_until() {
    local deadline=$((SECONDS + $1)) interval=$2 pid=$3
    shift 3
    until "$@"; do
        if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then return 2; fi
        ((SECONDS <= deadline)) || return 1
        sleep "$interval"
    done
}

# pid seconds [kill_target]: wait up to seconds for pid to exit (the caller sent it its signal), then
# SIGKILL kill_target (default pid; "-PID" for its process group). Status 1 if it had to kill.
await_exit() {
    local pid=$1 deadline=$((SECONDS + $2)) target=${3:-$1}
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS > deadline)); then
            kill -KILL -- "$target" 2>/dev/null || true
            return 1
        fi
        sleep 0.1
    done
}

# LocalStack's account 000000000000 answers the fake key "test"; the host's ~/.aws plays no part.
localstack_credentials() {
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null SAM_CLI_TELEMETRY=0
    unset AWS_PROFILE AWS_SESSION_TOKEN
}

# sam_venv: the AWS SAM CLI pinned in localstack/sam-requirements*.txt, in that virtualenv (again only
# when the pins changed).
install_sam() {
    local venv=$1 hash python
    hash="$(cat "$LIB_DIR/sam-requirements.txt" "$LIB_DIR/sam-requirements.lock.txt" | sha256sum | cut -c1-16)"
    if [[ -x "$venv/bin/sam" && "$(cat "$venv/.installed" 2>/dev/null)" == "$hash" ]]; then return 0; fi
    echo "installing AWS SAM CLI into $venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        python="$(python313)" || return 1
        "$python" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$LIB_DIR/sam-requirements.txt" -c "$LIB_DIR/sam-requirements.lock.txt" \
        2> >(grep -v "^WARNING: Location" >&2)
    echo "$hash" > "$venv/.installed"
}
