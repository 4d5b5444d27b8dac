# Notification service — developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: help venv services lint test test-unit test-integration e2e up down demo bench worker clean

help:  ## list the commands
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || "$$(scripts/find-python313)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)  ## create .venv (Python 3.13) with the service and its dev tools

services:  ## make sure PostgreSQL and RabbitMQ are running on 127.0.0.1
	@scripts/services.sh

lint: $(STAMP)  ## ruff check, ruff format --check, mypy, the import contracts (lint-imports)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(STAMP) services lint  ## the whole suite: lint, unit and integration tests, then `make e2e`
	$(PY) -m pytest -m "not e2e and not faults"
	@$(MAKE) --no-print-directory e2e

test-unit: $(STAMP)  ## unit tests only (no services needed)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP) services  ## integration tests against PostgreSQL and RabbitMQ
	$(PY) -m pytest tests/integration

e2e: $(STAMP) services  ## end-to-end tests, then the fault suite, on LocalStack (brings the stack up; stops it after if it was down)
	@scripts/e2e.sh

up:  ## the whole service on LocalStack: installs what is missing, deploys, writes .local/endpoints.json
	@scripts/local-up.sh

down:  ## stop what `make up` and `make api` started; PostgreSQL and RabbitMQ stay
	@localstack/sam-api.sh stop || true
	@localstack/stack.sh stop

demo: $(STAMP)  ## one event of each type through API Gateway, then what SES/SNS on LocalStack delivered
	@$(PY) scripts/localdev.py demo

.PHONY: api
api: $(STAMP) up  ## the API through `sam local start-api` on 127.0.0.1:3000 (Docker engine and Lambda image made here)
	@localstack/sam-api.sh start

bench: $(STAMP) services  ## benchmarks (not run by CI; delivery and priority bring the stack up); each prints a JSON line last
	$(PY) bench/fanout.py
	$(PY) bench/tick.py
	$(PY) bench/controls.py
	$(PY) bench/delivery.py
	$(PY) bench/priority.py

worker: $(STAMP) services  ## run the RabbitMQ worker (BROKER=rabbitmq)
	NOTIFY_BROKER=rabbitmq $(PY) -m notify.entrypoints.worker

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
