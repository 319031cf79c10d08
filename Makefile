# Two commands for a newcomer: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run serve migrate demo worker beat test test-fast lint format messages clean

help:
	@echo "make run        installe, migre, charge la démo et sert http://$(HOST):$(PORT)"
	@echo "make test       lint, vérifications Django et toute la suite de tests"
	@echo "make test-fast  les tests rapides seulement (sans navigateur, solveur lent, concurrence)"
	@echo "make worker / make beat   worker et planificateur Celery (avec REDIS_URL)"

# The virtual environment is rebuilt when the pinned requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@python=$$(infra/scripts/find-python) && \
	  { [ -x $(PY) ] || "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

# Development-only pins (PyVRP for the benchmark comparison, osrm-bindings for the
# in-process road-router test), compiled against requirements-dev.txt, and the e-invoice
# rule checks (requirements-einvoice.txt, installed without dependencies); the tests use them.
$(VENV)/.bench-installed: $(VENV)/.installed requirements-bench.txt requirements-einvoice.txt
	$(PY) -m pip install --quiet --require-hashes -r requirements-bench.txt
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-einvoice.txt
	@touch $@

migrate: install
	$(MANAGE) migrate --no-input

demo: migrate
	$(MANAGE) load_demo

run: demo
	@echo "Site : http://$(HOST):$(PORT)/   administration : http://$(HOST):$(PORT)/admin/"
	$(MANAGE) runserver $(HOST):$(PORT)

serve: install
	$(MANAGE) runserver $(HOST):$(PORT)

worker: install
	$(BIN)/celery -A marche worker -Q celery,routing --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A marche beat --loglevel=INFO

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install
	$(MANAGE) makemessages -l en --no-location --no-obsolete --ignore=.venv --ignore=var --ignore=tests --ignore=logistics/vrp
	$(MANAGE) compilemessages --ignore=.venv

# The full suite. PostgreSQL and Redis are found by infra/scripts/probe_services.py: in CI
# they must answer; locally the suite falls back to SQLite and says what it skips.
test: lint $(VENV)/.bench-installed
	DJANGO_SETTINGS_MODULE=marche.settings.test $(MANAGE) check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=marche.settings.test $(MANAGE) makemigrations --check --dry-run
	@exports=$$($(PY) infra/scripts/probe_services.py) && eval "$$exports" && \
	  $(BIN)/pytest -m "" --durations=40 $(PYTEST_ARGS)

test-fast: install
	@exports=$$($(PY) infra/scripts/probe_services.py) && eval "$$exports" && \
	  $(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
