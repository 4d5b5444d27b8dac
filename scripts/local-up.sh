#!/usr/bin/env bash
# `make up`: the whole service on this machine, on LocalStack. Safe to run again (the deploy is then an
# update or a no-op). Steps, each installing what is missing:
#   1. PostgreSQL and RabbitMQ on 127.0.0.1 (scripts/services.sh)
#   2. .venv, LocalStack's and the SAM CLI's virtualenvs (side by side), LocalStack on 127.0.0.1:4566
#      (localstack/stack.sh: host mode, Lambda functions as host processes)
#   3. the database `notify` (its migrations: the deployed Migrate function, invoked in step 5)
#   4. `sam build` (no container) and `sam deploy` of template.yaml through CloudFormation on LocalStack,
#      artifacts in the S3 bucket notify-sam-artifacts; PublicBaseUrl set to the API's URL
#   5. the SES sender verified, .local/endpoints.json written, the Migrate function invoked, GET /health through API Gateway, demo
#      directory data (PUT /directory/users, /directory/movies)
#
# Settings (environment): RESET_DB=1 (drop the database `notify` first), STACK_NAME (notify),
# LOCAL_PARAMETERS ("Key=Value ..." template parameter overrides), LOCALSTACK_LAMBDA_EXECUTOR (host;
# `docker`: LocalStack's stock executor, see the README), LOCALSTACK_PORT (4566).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
LOCAL="$ROOT/.local"
SAM_VENV="$LOCAL/sam-venv"
PY="$ROOT/.venv/bin/python"
STACK_NAME="${STACK_NAME:-notify}"
BUCKET="notify-sam-artifacts"
PORT="${LOCALSTACK_PORT:-4566}"
SERVICES_HOST=127.0.0.1
if [[ "${LOCALSTACK_LAMBDA_EXECUTOR:-host}" == docker ]]; then
    # Functions run in containers: they see the host's PostgreSQL and RabbitMQ at the bridge's gateway
    # (both must listen there too). Not tried on this machine, which has no Docker.
    SERVICES_HOST="$(docker network inspect bridge --format '{{(index .IPAM.Config 0).Gateway}}')"
fi
# shellcheck source=../localstack/lib.sh
source localstack/lib.sh
localstack_credentials
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"

started=$SECONDS
step() { echo "== up: $* (+$((SECONDS - started)) s)"; }

step "PostgreSQL and RabbitMQ"
scripts/services.sh

step "LocalStack"
# On a fresh machine three virtualenvs are made: the project's .venv (make venv), LocalStack's (stack.sh)
# and the SAM CLI's. They install side by side (mostly downloads and unpacking), logs in .local/.
mkdir -p "$LOCAL"
background() {  # name, command...: run it in the background, its output to .local/<name>.log
    local name=$1
    shift
    "$@" > "$LOCAL/$name.log" 2>&1 &
    jobs_started+=("$!:$name")
}
jobs_started=()
make --no-print-directory -q venv 2>/dev/null || background venv-install make --no-print-directory venv
background sam-install install_sam "$SAM_VENV"
localstack/stack.sh start
for job in "${jobs_started[@]}"; do
    if ! wait "${job%%:*}"; then
        echo "up: ${job#*:} failed; .local/${job#*:}.log:" >&2
        grep -v "^WARNING: Location" "$LOCAL/${job#*:}.log" | tail -n 30 >&2
        exit 1
    fi
done

# The parameters: samconfig.toml's `local` configuration (a short visibility timeout and three
# receives, so that a message that keeps failing reaches its dead-letter queue in seconds), then what
# only this machine knows (the secrets' ARNs, below), then LOCAL_PARAMETERS.
PARAMETERS=()
while IFS= read -r parameter; do
    case "$parameter" in
        DatabaseUrl=* | RabbitmqUrl=*) parameter="${parameter//127.0.0.1/$SERVICES_HOST}" ;;
    esac
    PARAMETERS+=("$parameter")
done < <("$PY" -m notify_dev.template_lint --parameters local)
PARAMETERS+=("AwsCallLog=$LOCAL/aws-calls")
# The record starts anew with each deploy: a function still running writes its calls again.
rm -rf "$LOCAL/aws-calls"

step "database"
"$PY" -m notify_dev prepare-db --create-only ${RESET_DB:+--reset}

step "secrets (Secrets Manager on LocalStack)"
# The functions read their secrets as a deployed stage does; the plain values stay unused.
while IFS= read -r parameter; do PARAMETERS+=("$parameter"); done \
    < <("$PY" -m notify_dev.local_secrets "$SERVICES_HOST")
# shellcheck disable=SC2206 - word splitting is the point
[[ -n "${LOCAL_PARAMETERS:-}" ]] && PARAMETERS+=(${LOCAL_PARAMETERS})

step "sam build"
# `sam build` without a container runs the build with python3.13 from PATH.
if ! PATH="$(dirname "$(python313)"):$PATH" "$SAM_VENV/bin/sam" build \
    --cached --parallel --template-file template.yaml > "$LOCAL/sam-build.log" 2>&1; then
    echo "up: sam build failed; $LOCAL/sam-build.log:" >&2
    tail -n 40 "$LOCAL/sam-build.log" >&2
    exit 1
fi
grep -E "^Build Succeeded|layer|Manifest" "$LOCAL/sam-build.log" | sed 's/^ */  /' || true

step "sam deploy (stack $STACK_NAME)"
"$PY" -m notify_dev make-bucket "$BUCKET"
deploy() {
    if "$SAM_VENV/bin/sam" deploy \
        --stack-name "$STACK_NAME" \
        --s3-bucket "$BUCKET" \
        --region us-east-1 \
        --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
        --parameter-overrides "${PARAMETERS[@]}" \
        --no-confirm-changeset --no-fail-on-empty-changeset --no-progressbar \
        > "$LOCAL/sam-deploy.log" 2>&1; then
        grep -E "Successfully created/updated|No changes to deploy" "$LOCAL/sam-deploy.log" | sed 's/^/  /' || true
        return 0
    fi
    # LocalStack 2026.3 cannot update an API Gateway stage in place (it replaces it, and the new stage's
    # name clashes with the old one's), so an update that changes the API's routes fails, and the
    # rolled-back stack is left unusable. It is then made anew — after deleting it, or if even that
    # fails, in a restarted LocalStack. The service's state lives in PostgreSQL; only messages waiting
    # in the old queues are lost.
    if [[ "${1:-}" != again ]]; then
        grep -E "Error|FAILED" "$LOCAL/sam-deploy.log" | tail -n 3 | sed 's/^/  /' || true
        if timeout 120 "$PY" -m notify_dev delete-stack --stack "$STACK_NAME" >/dev/null 2>&1; then
            echo "up: the update failed on LocalStack; stack deleted, creating it again"
        else
            echo "up: the update failed on LocalStack and the stack cannot be deleted; restarting LocalStack"
            localstack/stack.sh stop
            localstack/stack.sh start
            "$PY" -m notify_dev make-bucket "$BUCKET"
        fi
        api_url=""
        local kept=()
        for parameter in "${PARAMETERS[@]}"; do
            [[ "$parameter" == PublicBaseUrl=* ]] || kept+=("$parameter")
        done
        PARAMETERS=("${kept[@]}")
        deploy again
        return
    fi
    echo "up: sam deploy failed; $LOCAL/sam-deploy.log:" >&2
    tail -n 40 "$LOCAL/sam-deploy.log" >&2
    exit 1
}
# Links in e-mails (unsubscribe) point at PublicBaseUrl: the API's URL, whose id is known once the stack
# exists. A first deploy is therefore followed by an update that sets it.
has_public_url=0
if grep -q "^  PublicBaseUrl:" template.yaml; then has_public_url=1; fi
api_url="$("$PY" -m notify_dev api-url --stack "$STACK_NAME")"
if ((has_public_url)) && [[ -n "$api_url" ]]; then PARAMETERS+=("PublicBaseUrl=$api_url"); fi
deploy
if ((has_public_url)) && [[ -z "$api_url" ]]; then
    api_url="$("$PY" -m notify_dev api-url --stack "$STACK_NAME")"
    PARAMETERS+=("PublicBaseUrl=$api_url")
    step "sam deploy: PublicBaseUrl=$api_url"
    deploy again
fi

step "endpoints and demo data"
"$PY" -m notify_dev finish --stack "$STACK_NAME"

step "done: API $(
    "$PY" -c 'import json; print(json.load(open(".local/endpoints.json"))["api_url"])'
)"
echo "up: ready in $((SECONDS - started)) s. Try: make demo; stop with: make down"
