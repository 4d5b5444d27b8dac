# Notification service — every command a person runs is a target here; `make help` lists them by group.
# Optional variables: ARGS (extra arguments for generate, demo, latency, bench-*, pytest), FN and EVENT (invoke).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
ARGS    ?=

.PHONY: help venv services clean up demo down deploy url key status migrate redrive api api-stop invoke worker keys generate \
	client lint test test-unit test-integration test-localstack pytest e2e faults fuzz \
	latency memory bench bench-smoke bench-table bench-fanout bench-audience bench-tick bench-workflows bench-controls bench-delivery bench-priority bench-auth bench-ingest \
	bench-sam-api bench-localstack

help:  ## list the commands, by group
	@awk 'BEGIN {FS = ":.*## "} \
		/^##@ / {printf "\n%s\n", substr($$0, 5); next} \
		/^[a-z0-9-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2; next} \
		/^##: / {split(substr($$0, 5), part, " -- "); printf "  make %-18s %s\n", part[1], part[2]}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml devtools/pyproject.toml constraints.txt clients/python/setup.py
	@test -x $(PY) || "$$(source localstack/lib.sh && python313)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]' -e ./devtools -e ./clients/python
	@touch $(STAMP)

##@ Run the service (LocalStack on 127.0.0.1:4566; PostgreSQL and RabbitMQ on this machine)

up:  ## the whole service on LocalStack: installs what is missing, deploys, writes .local/endpoints.json
	@scripts/local-up.sh

demo: $(STAMP)  ## one event of each type through API Gateway, then what SES/SNS delivered (ARGS=--own-events: fixed events)
	@$(PY) -m notify_dev demo $(ARGS)

down:  ## stop what `make up` and `make api` started; PostgreSQL and RabbitMQ stay
	@localstack/sam-api.sh stop || true
	@localstack/stack.sh stop

migrate: $(STAMP) services  ## apply the database's missing migrations from here (make up: the Migrate function)
	@$(PY) -m notify_dev prepare-db

deploy: $(STAMP)  ## to your AWS account: sam build, sam deploy of samconfig.toml's CONFIG_ENV (production), the Migrate function
	@scripts/deploy.sh $(or $(CONFIG_ENV),production)

redrive: $(STAMP)  ## move the dead-letter queues' messages back to their queues (QUEUE=notify-email-high: one; BROKER=rabbitmq)
	@$(PY) -m notify_dev redrive --broker $(or $(BROKER),sqs) $(if $(QUEUE),--queue $(QUEUE))

url: $(STAMP)  ## print the deployed API's URL, from .local/endpoints.json: API=$$(make -s url)
	@$(PY) -c 'from notify_dev.endpoints import load_endpoints; print(load_endpoints()["api_url"])'

key: $(STAMP)  ## print the local admin API key, from .local/endpoints.json: KEY=$$(make -s key)
	@$(PY) -c 'from notify_dev.endpoints import load_endpoints; print(load_endpoints()["api_key"])'

status:  ## is LocalStack running, is `make api` running
	@localstack/stack.sh status || true
	@localstack/sam-api.sh status || true

api: $(STAMP) up  ## the API through `sam local start-api` on 127.0.0.1:3000 (Docker engine and Lambda image made here)
	@localstack/sam-api.sh start

api-stop:  ## stop `make api`: the API, its forwarders, the Docker engine it started
	@localstack/sam-api.sh stop

invoke: $(STAMP)  ## one function in its Lambda container: make invoke FN=IngestFunction EVENT=events/api_health.json
	@test -n "$(FN)" || { echo "make invoke FN=<logical id, e.g. IngestFunction> [EVENT=events/<file>.json]" >&2; exit 2; }
	@localstack/sam-api.sh invoke "$(FN)" $(EVENT)

worker: $(STAMP) services  ## run the RabbitMQ worker (BROKER=rabbitmq)
	NOTIFY_BROKER=rabbitmq $(PY) -m notify.entrypoints.worker

keys: $(STAMP) services  ## API keys on the database: make keys ARGS="create --name ci --scope admin" (also list, revoke ID)
	@$(PY) -m notify.entrypoints.keys $(ARGS)

generate: $(STAMP)  ## the event generator against the stack's API: make generate ARGS="--users 1000 --events 200 --rate 20"
	@$(PY) -m notify_dev.generate $(ARGS)

##@ Test

test: $(STAMP) services lint  ## the whole suite: lint, unit and integration tests, then `make e2e`
	$(PY) -m pytest -m "not e2e and not faults"
	@$(MAKE) --no-print-directory e2e

lint: $(STAMP)  ## ruff, mypy, the import contracts, cfn-lint on the translated template, the SDK up to date
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m notify_dev.template_lint
	@scripts/client.sh check

client: $(STAMP)  ## the Python SDK: clients/python (and clients/openapi.json) generated from the API's document
	@scripts/client.sh generate

test-unit: $(STAMP)  ## unit tests only (no services needed)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP) services  ## integration tests against PostgreSQL and RabbitMQ
	$(PY) -m pytest tests/integration

pytest: $(STAMP)  ## one test, a file or any pytest arguments: make pytest ARGS="tests/unit/delivery -k quiet_hours"
	$(PY) -m pytest $(ARGS)

test-localstack: $(STAMP)  ## the host executor's own tests (starts LocalStack for them if it is not running)
	$(PY) -m pytest localstack/tests

e2e: $(STAMP) services  ## end-to-end tests, then the fault suite, on LocalStack (brings the stack up; stops it after if it was down)
	@scripts/e2e.sh

fuzz: $(STAMP)  ## schemathesis against the running stack's API: no 5xx, no route answering without a key (ARGS=--max-examples=5)
	@scripts/fuzz.sh $(ARGS)

faults: $(STAMP)  ## the fault suite alone, on the running stack (make up first; ARGS="-k db_dropped")
	NOTIFY_E2E_REQUIRED=1 $(PY) -m pytest -m faults tests/faults $(ARGS)

##@ Measure (each prints a JSON line last; CI runs only bench-smoke, which checks no figure)

latency: $(STAMP)  ## POST → e-mail, SMS and push in LocalStack's stores, 20 runs (ARGS="--runs 50")
	@$(PY) -m notify_dev latency $(ARGS)

memory: $(STAMP)  ## resident memory of LocalStack and of each function process
	@$(PY) -m notify_dev memory

bench: $(STAMP) services  ## every benchmark of bench/ at full size, each JSON line into bench/results/<name>.json
	$(PY) -m notify_dev.bench_suite record

##: bench-NAME -- one of them, recorded the same way (fanout, audience, tick, workflows, controls, delivery, priority, auth, ingest): make bench-delivery ARGS="--recipients 5000"
bench-fanout bench-audience bench-tick bench-workflows bench-controls bench-delivery bench-priority bench-auth bench-ingest: bench-%: $(STAMP) services
	$(PY) -m notify_dev.bench_suite record $* --args="$(ARGS)"

bench-smoke: $(STAMP) services  ## every benchmark at a small size, about 5 minutes (CI runs it): fails when one prints no JSON line last
	$(PY) -m notify_dev.bench_suite smoke

bench-table: $(STAMP)  ## the README's figures table, written from bench/results/ (a unit test checks it matches)
	$(PY) -m notify_dev.bench_suite table

bench-sam-api: $(STAMP)  ## POST latency through `make api` and through API Gateway (ARGS="--requests 50")
	$(PY) localstack/sam_api_bench.py $(ARGS)

bench-localstack:  ## LocalStack itself: start time, cold and warm invoke, memory (restarts it)
	@localstack/stack.sh install
	.local/localstack-venv/bin/python localstack/bench.py

##@ Set up

venv: $(STAMP)  ## create .venv (Python 3.13): the service, its dev tools, the notify_dev package (devtools/)

services:  ## make sure PostgreSQL and RabbitMQ are running on 127.0.0.1
	@scripts/services.sh

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
