# Notification service — developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: help venv services lint test test-unit test-integration bench worker clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || "$$(scripts/find-python313)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)  ## create .venv (Python 3.13) with the service and its dev tools

services:  ## make sure PostgreSQL and RabbitMQ are running on 127.0.0.1
	@scripts/services.sh

lint: $(STAMP)  ## ruff check, ruff format --check, mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: $(STAMP) services lint  ## the whole suite: lint, unit and integration tests
	$(PY) -m pytest

test-unit: $(STAMP)  ## unit tests only (no services needed)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP) services  ## integration tests against PostgreSQL and RabbitMQ
	$(PY) -m pytest tests/integration

bench: $(STAMP) services  ## benchmarks (not run by CI); each prints a JSON line last
	$(PY) bench/fanout.py
	$(PY) bench/tick.py
	$(PY) bench/controls.py

worker: $(STAMP) services  ## run the RabbitMQ worker (BROKER=rabbitmq)
	NOTIFY_BROKER=rabbitmq $(PY) -m notify.worker

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
