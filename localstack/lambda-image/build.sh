#!/usr/bin/env bash
# The Lambda base image `sam local` runs python3.13 functions on, public.ecr.aws/lambda/python:3.13-x86_64,
# made present in the Docker engine without a registry when it is missing.
#
#   localstack/lambda-image/build.sh          nothing when the image is present (the real one, or ours
#                                             built from the same inputs); else pull or build it
#   localstack/lambda-image/build.sh --force  build it again
#
# LAMBDA_IMAGE_SOURCE: `auto` (default) pulls the real image when the engine is not one that
# localstack/docker.sh started (a laptop with Docker Desktop and internet) and builds otherwise; `pull`;
# `build`. The build, as root, on Debian or Ubuntu:
#   1. rootfs: `debootstrap --variant=minbase bookworm` from the mirror apt uses, with the shared libraries
#      Python's extension modules need and tzdata/ca-certificates; kept in .local/lambda-image/rootfs
#      (redone only when the package list changes)
#   2. /var/lang: this machine's Python 3.13 (`python313` of localstack/lib.sh) without its tests, tkinter, static
#      library or site-packages; its original prefix is linked to /var/lang (its RUNPATH points there)
#   3. /var/runtime: awslambdaric and boto3 (requirements.txt) and bootstrap + bootstrap.py
#   4. /usr/local/bin/aws-lambda-rie (the emulator from the SAM CLI's wheel), /lambda-entrypoint.sh
#   5. `docker import` with the real image's ENV, WORKDIR and ENTRYPOINT, labelled with a hash of the inputs
# Needs: a running engine (localstack/docker.sh start) and the SAM CLI in .local/sam-venv.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$ROOT/.local/lambda-image"
IMAGE="${LAMBDA_BASE_IMAGE:-public.ecr.aws/lambda/python:3.13-x86_64}"
SOURCE="${LAMBDA_IMAGE_SOURCE:-auto}"
SUITE="bookworm"
SAM_VENV="$ROOT/.local/sam-venv"
# Shared libraries of Python's extension modules (ldd of lib-dynload, without _tkinter), tzdata for
# zoneinfo, CA certificates for TLS.
PACKAGES="libssl3,libsqlite3-0,libexpat1,libncursesw6,libreadline8,libffi8,libuuid1,libbz2-1.0,liblzma5,zlib1g,tzdata,ca-certificates"

say() { echo "lambda-image: $*"; }
die() { echo "lambda-image: $*" >&2; exit 1; }

force=0
[[ "${1:-}" == "--force" ]] && force=1

docker info >/dev/null 2>&1 || die "no Docker engine answers: localstack/docker.sh start"

# shellcheck source=../lib.sh
source "$ROOT/localstack/lib.sh"  # python313

rie_path() {
    local rie
    rie="$(ls "$SAM_VENV"/lib/python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64 2>/dev/null | head -n1)"
    [[ -n "$rie" ]] || die "the Runtime Interface Emulator comes from the SAM CLI: install it first (.local/sam-venv)"
    echo "$rie"
}

inputs_hash() {
    {
        echo "$SUITE $PACKAGES"
        cat "$HERE/build.sh" "$HERE/bootstrap" "$HERE/bootstrap.py" "$HERE/lambda-entrypoint.sh" \
            "$HERE/requirements.txt" "$HERE/../runtime-requirements.txt"
        "$(python313)" -c 'import sys; print(sys.version)'
        sha256sum < "$(rie_path)"
    } | sha256sum | cut -c1-16
}

present_label() {
    docker image inspect --format '{{index .Config.Labels "notify.lambda-image"}}' "$IMAGE" 2>/dev/null
}

mirror() {
    local uri
    uri="$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
        | grep -v -E 'security|updates' | head -n1 || true)"
    [[ -n "$uri" ]] || uri="$(grep -h -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -n1 || true)"
    echo "${uri:-http://deb.debian.org/debian}"
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null && return 0
    [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null || die "debootstrap is missing (and cannot be installed here)"
    say "installing debootstrap"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap)
    "${apt[@]}" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; "${apt[@]}" >/dev/null; }
}

rootfs() {  # echo the path of a rootfs for $SUITE with $PACKAGES, debootstrapping it when needed
    local dir="$STATE/rootfs" stamp="$SUITE $PACKAGES $(mirror)"
    if [[ -f "$dir/.notify-rootfs" && "$(cat "$dir/.notify-rootfs")" == "$stamp" ]]; then
        echo "$dir"; return
    fi
    ensure_debootstrap >&2
    local started=$SECONDS
    rm -rf "$dir" "$dir.tmp"
    mkdir -p "$STATE"
    say "debootstrap --variant=minbase $SUITE from $(mirror) (log $STATE/debootstrap.log)" >&2
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir.tmp" "$(mirror)" \
        >"$STATE/debootstrap.log" 2>&1 || { tail -n 20 "$STATE/debootstrap.log" >&2; die "debootstrap failed"; }
    # What an image does not need: package caches and lists, documentation, man pages.
    rm -rf "$dir.tmp"/var/cache/apt/archives/*.deb "$dir.tmp"/var/cache/apt/*.bin "$dir.tmp"/var/lib/apt/lists/* \
        "$dir.tmp"/usr/share/doc/* "$dir.tmp"/usr/share/man/* "$dir.tmp"/usr/share/info/* "$dir.tmp"/var/log/*.log
    echo "$stamp" > "$dir.tmp/.notify-rootfs"
    mv "$dir.tmp" "$dir"
    say "rootfs ready in $((SECONDS - started)) s" >&2
    echo "$dir"
}

build() {
    [[ $EUID -eq 0 ]] || die "building the image needs root (debootstrap, chroot); or pull the real one: LAMBDA_IMAGE_SOURCE=pull"
    local started=$SECONDS hash py prefix base stage
    hash="$(inputs_hash)"
    py="$(python313)"
    prefix="$("$py" -c 'import sys; print(sys.base_prefix)')"
    "$py" -c 'import sysconfig, sys; sys.exit(0 if sysconfig.get_config_var("Py_ENABLE_SHARED") else 1)' \
        || say "note: $py is not a shared-library build; it is copied all the same"
    base="$(rootfs)"
    stage="$STATE/stage"
    rm -rf "$stage"
    # Hard links: the cached rootfs is not copied, and nothing below writes into its files.
    cp -al "$base" "$stage"
    rm -f "$stage/.notify-rootfs"

    # /var/lang: the interpreter
    mkdir -p "$stage/var/lang"
    tar -C "$prefix" \
        --exclude=./lib/python3.13/test --exclude=./lib/python3.13/idlelib --exclude=./lib/python3.13/tkinter \
        --exclude=./lib/python3.13/turtledemo --exclude='./lib/python3.13/site-packages/*' \
        --exclude='./lib/python3.13/lib-dynload/_tkinter*' --exclude='./lib/python3.13/config-3.13*/*.a' \
        --exclude='./bin/pip*' --exclude='./bin/idle*' --exclude='./bin/2to3*' --exclude='./bin/pydoc*' \
        --exclude=./share \
        -cf - ./bin ./lib ./include | tar -C "$stage/var/lang" -xf -
    ln -sfn python3.13 "$stage/var/lang/bin/python3"
    ln -sfn python3.13 "$stage/var/lang/bin/python"
    if [[ "$prefix" != /var/lang && "$prefix" != /usr ]]; then  # the binary's RUNPATH names its prefix
        mkdir -p "$stage$(dirname "$prefix")"
        ln -sfn /var/lang "$stage$prefix"
    fi

    # /var/runtime: the runtime interface client and boto3, the bootstrap
    local runtime="$STATE/runtime-$(cat "$HERE/requirements.txt" "$HERE/../runtime-requirements.txt" | sha256sum | cut -c1-12)"
    if [[ ! -f "$runtime/.complete" ]]; then
        rm -rf "$STATE"/runtime-*
        say "pip install --target /var/runtime -r requirements.txt"
        "$py" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
            --root-user-action=ignore --only-binary=:all: --target "$runtime" -r "$HERE/requirements.txt" \
            2> >(grep -v "^WARNING: Location" >&2)
        rm -rf "$runtime/bin"
        touch "$runtime/.complete"
    fi
    mkdir -p "$stage/var/runtime" "$stage/var/task" "$stage/opt" "$stage/var/rapid"
    cp -a "$runtime/." "$stage/var/runtime/"
    rm -f "$stage/var/runtime/.complete"
    install -m 0755 "$HERE/bootstrap" "$stage/var/runtime/bootstrap"
    install -m 0644 "$HERE/bootstrap.py" "$stage/var/runtime/bootstrap.py"
    install -m 0755 "$(rie_path)" "$stage/usr/local/bin/aws-lambda-rie"
    install -m 0755 "$HERE/lambda-entrypoint.sh" "$stage/lambda-entrypoint.sh"

    say "docker import as $IMAGE"
    tar -C "$stage" --numeric-owner -cf - . | docker import \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV TZ=:/etc/localtime' \
        --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin' \
        --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
        --change 'ENV LAMBDA_TASK_ROOT=/var/task' \
        --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
        --change 'WORKDIR /var/task' \
        --change 'ENTRYPOINT ["/lambda-entrypoint.sh"]' \
        --change "LABEL notify.lambda-image=$hash" \
        --message "built by localstack/lambda-image/build.sh without a registry" \
        - "$IMAGE" >/dev/null
    rm -rf "$stage"
    # SAM's emulation images derive from the base image: stale ones would keep the old base.
    local stale
    stale="$(docker images -q --filter 'reference=public.ecr.aws/lambda/python:3.13-rapid-*' ; \
             docker images -q --filter 'reference=samcli/lambda-python:3.13-*')"
    [[ -z "$stale" ]] || docker rmi -f $stale >/dev/null 2>&1 || true
    docker image prune -f >/dev/null 2>&1 || true
    say "built $IMAGE in $((SECONDS - started)) s ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"
}

ours_engine() {
    local pidfile="$ROOT/.local/docker/dockerd.pid"
    [[ -f "$pidfile" && -r "/proc/$(cat "$pidfile")/cmdline" ]]
}

label="$(present_label || true)"
if docker image inspect "$IMAGE" >/dev/null 2>&1 && ((force == 0)); then
    if [[ -z "$label" ]]; then
        say "$IMAGE is present (not built here): used as it is"; exit 0
    fi
    if [[ "$label" == "$(inputs_hash)" ]]; then
        say "$IMAGE is present (built here, inputs unchanged)"; exit 0
    fi
    say "$IMAGE was built here from other inputs: building again"
fi

case "$SOURCE" in
    pull) docker pull "$IMAGE" ;;
    build) build ;;
    auto)
        if ! ours_engine && [[ -z "$label" ]]; then
            say "pulling $IMAGE (LAMBDA_IMAGE_SOURCE=build to build it instead)"
            docker pull "$IMAGE" || { say "pull failed: building it"; build; }
        else
            build
        fi
        ;;
    *) die "LAMBDA_IMAGE_SOURCE must be auto, pull or build (not $SOURCE)" ;;
esac
