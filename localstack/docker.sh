#!/usr/bin/env bash
# A Docker engine for `sam local`, and forwarders so that containers reach the services on the host's
# loopback (PostgreSQL, RabbitMQ, LocalStack).
#
#   localstack/docker.sh start      use the engine that already answers (Docker Desktop, a system dockerd);
#                                   else install docker.io if missing (Debian, root) and start dockerd
#   localstack/docker.sh stop       stop the forwarders and the engine this script started; leave others
#   localstack/docker.sh status     the engine in use (ours or not), the host address, the forwarders
#   localstack/docker.sh forward    socat on the Docker bridge address → 127.0.0.1, one per port
#   localstack/docker.sh unforward  stop those forwarders
#   localstack/docker.sh host       print the address containers reach the host's services at
#
# The engine this script starts listens on its unix socket only (DOCKER_SOCKET, /var/run/docker.sock),
# keeps its images and containers under .local/docker/data, and keeps the default bridge (docker0): SAM
# publishes each function container's port 8080 on 127.0.0.1, which needs a bridge. --iptables=false and
# --ip-masq=false: it changes no firewall rule, and containers get no route out.
#
# A container on the bridge cannot reach a service bound to the host's 127.0.0.1. `forward` puts a socat
# on the bridge address (172.17.0.1) for each port (FORWARD_PORTS: 5432 5672 4566), connecting to
# 127.0.0.1 — PostgreSQL trusts 127.0.0.1 and RabbitMQ's guest logs in from loopback only, so both work
# unchanged. Nothing listens beyond loopback and the bridge. With Docker Desktop, containers reach the host's
# loopback at host.docker.internal and no forwarder is needed.
#
# Settings (environment): DOCKER_SOCKET, FORWARD_PORTS, DOCKER_START_TIMEOUT seconds (30),
# SAM_HOST_ADDRESS (overrides what `host` prints).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
STATE="$ROOT/.local/docker"
DATA="$STATE/data"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
SOCKET="${DOCKER_SOCKET:-/var/run/docker.sock}"
FORWARD_PORTS="${FORWARD_PORTS:-5432 5672 ${LOCALSTACK_PORT:-4566}}"
if [[ -n "${DOCKER_SOCKET:-}" && -z "${DOCKER_HOST:-}" ]]; then export DOCKER_HOST="unix://$SOCKET"; fi

say() { echo "docker.sh: $*"; }
die() { echo "docker.sh: $*" >&2; exit 1; }

engine_answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

# pid of the dockerd this script started, if it still runs
our_pid() { pid_from_file "$PIDFILE" "--data-root $DATA"; }

install_engine() {
    command -v dockerd >/dev/null && command -v docker >/dev/null && return 0
    [[ $EUID -eq 0 ]] || die "no Docker engine answers and dockerd is not installed; install Docker (or run as root)"
    command -v apt-get >/dev/null || die "no Docker engine answers and there is no apt-get to install docker.io"
    say "installing docker.io (Debian's Docker engine)"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io)
    if ! "${apt[@]}" >"$STATE/apt.log" 2>&1; then
        apt-get update -qq >>"$STATE/apt.log" 2>&1 || true
        "${apt[@]}" >>"$STATE/apt.log" 2>&1 || { tail -n 20 "$STATE/apt.log" >&2; die "installing docker.io failed"; }
    fi
}

start() {
    mkdir -p "$STATE"
    if engine_answers; then
        if pid="$(our_pid)"; then say "engine already running (pid $pid, $SOCKET)"
        else say "using the Docker engine that already runs ($(docker info --format '{{.OperatingSystem}}, {{.ServerVersion}}'))"; fi
        return 0
    fi
    [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != "unix://$SOCKET" ]] \
        && die "DOCKER_HOST=$DOCKER_HOST does not answer; unset it to let this script start an engine"
    install_engine
    [[ $EUID -eq 0 ]] || die "starting dockerd needs root"
    local started=$SECONDS pid
    mkdir -p "$DATA"
    # setsid: the engine outlives this shell and make's process group; it is stopped by `stop`.
    setsid dockerd -H "unix://$SOCKET" --iptables=false --ip-masq=false --ip6tables=false \
        --data-root "$DATA" --pidfile "$STATE/dockerd.pidfile" >>"$LOG" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$PIDFILE"
    local waited=0
    DOCKER_HOST="unix://$SOCKET" wait_until "${DOCKER_START_TIMEOUT:-30}" 0.1 "$pid" engine_answers || waited=$?
    if ((waited == 2)); then
        rm -f "$PIDFILE"
        tail -n 20 "$LOG" >&2
        die "dockerd exited during start-up (log $LOG)"
    elif ((waited == 1)); then
        stop >&2
        die "dockerd did not answer within ${DOCKER_START_TIMEOUT:-30} s (log $LOG)"
    fi
    say "engine started (pid $pid, unix://$SOCKET, data $DATA) in $((SECONDS - started)) s"
}

# ---- forwarders -------------------------------------------------------------------------------------

docker_desktop() { docker info --format '{{.OperatingSystem}}' 2>/dev/null | grep -qi 'docker desktop'; }

bridge_ip() {
    local name ip
    name="$(docker network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null)"
    ip="$(ip -4 -o addr show dev "${name:-docker0}" 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -n1)"
    if [[ -z "$ip" ]]; then  # no `ip`, or a remote engine: the gateway of the bridge network
        ip="$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null)"
    fi
    [[ -n "$ip" ]] || return 1
    echo "$ip"
}

host_address() {
    if [[ -n "${SAM_HOST_ADDRESS:-}" ]]; then echo "$SAM_HOST_ADDRESS"; return; fi
    if docker_desktop; then echo host.docker.internal; return; fi
    bridge_ip || die "no Docker bridge address found (is the engine running? localstack/docker.sh start)"
}

forwarder_pid() {  # port
    local file="$STATE/forward-$1.pid" pid
    [[ -f "$file" ]] || return 1
    pid="$(cat "$file")"
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "TCP-LISTEN:$1," || return 1
    echo "$pid"
}

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

forward() {
    engine_answers || die "no Docker engine answers: localstack/docker.sh start"
    if docker_desktop || [[ -n "${SAM_HOST_ADDRESS:-}" ]]; then
        say "containers reach the host at $(host_address); no forwarder needed"
        return 0
    fi
    local ip port pid
    ip="$(host_address)"
    if ! command -v socat >/dev/null; then
        [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null || die "socat is missing"
        say "installing socat"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends socat >"$STATE/apt.log" 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                 --no-install-recommends socat >>"$STATE/apt.log" 2>&1; } || die "installing socat failed"
    fi
    mkdir -p "$STATE"
    for port in $FORWARD_PORTS; do
        if pid="$(forwarder_pid "$port")"; then continue; fi
        if listening "$ip" "$port"; then
            say "$ip:$port already answers (not ours); left as it is"
            continue
        fi
        setsid socat "TCP-LISTEN:$port,bind=$ip,reuseaddr,fork,backlog=128" "TCP:127.0.0.1:$port" \
            >>"$STATE/forward.log" 2>&1 </dev/null &
        echo $! > "$STATE/forward-$port.pid"
    done
    for port in $FORWARD_PORTS; do
        wait_until 5 0.05 "" listening "$ip" "$port" \
            || die "the forwarder on $ip:$port did not start (log $STATE/forward.log)"
    done
    say "forwarding $ip:{${FORWARD_PORTS// /,}} → 127.0.0.1"
}

unforward() {
    local file port pid
    for file in "$STATE"/forward-*.pid; do
        [[ -e "$file" ]] || continue
        port="${file##*/forward-}"; port="${port%.pid}"
        if pid="$(forwarder_pid "$port")"; then kill "$pid" 2>/dev/null || true; fi
        rm -f "$file"
    done
}

# ---- stop / status ----------------------------------------------------------------------------------

# Running containers that mount nothing of this checkout: another checkout's `sam local` on the same engine.
foreign_containers() {
    local id sources
    for id in $(docker ps -q 2>/dev/null); do
        sources="$(docker inspect --format '{{range .Mounts}}{{.Source}} {{end}}' "$id" 2>/dev/null || true)"
        [[ " $sources" == *" $ROOT/"* ]] || echo "$id"
    done
}

stop() {
    local pid
    if ! pid="$(our_pid)"; then
        unforward
        rm -f "$PIDFILE"
        engine_answers && say "the running engine was not started by this script; left running" \
            || say "no engine started by this script is running"
        return 0
    fi
    # One engine and one bridge serve the whole machine: while another checkout's containers run on it,
    # the engine and the forwarders stay.
    local foreign
    foreign="$(foreign_containers)"
    if [[ -n "$foreign" ]]; then
        say "containers of another checkout run on the engine ($(echo $foreign | wc -w)); engine and forwarders left running"
        return 0
    fi
    unforward
    # Containers SAM left behind (warm containers of a killed `sam local`) would keep the engine busy.
    local leftovers
    leftovers="$(docker ps -q --filter label=sam.cli.container.type 2>/dev/null || true)"
    [[ -z "$leftovers" ]] || docker rm -f $leftovers >/dev/null 2>&1 || true
    kill "$pid"
    await_exit "$pid" 20 || true
    rm -f "$PIDFILE"
    say "engine stopped (pid $pid)"
}

status() {
    local pid
    if ! engine_answers; then say "no engine answers"; return 1; fi
    if pid="$(our_pid)"; then say "engine: ours (pid $pid, unix://$SOCKET, data $DATA)"
    else say "engine: not ours ($(docker info --format '{{.OperatingSystem}}, {{.ServerVersion}}'))"; fi
    say "host address for containers: $(host_address)"
    local port
    for port in $FORWARD_PORTS; do
        if pid="$(forwarder_pid "$port")"; then say "forwarder :$port running (pid $pid)"; fi
    done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    forward) forward ;;
    unforward) unforward ;;
    host) host_address ;;
    *) echo "usage: $0 start|stop|status|forward|unforward|host" >&2; exit 2 ;;
esac
