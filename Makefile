# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a step
# they call. A DATABASE_URL given by the user wins over the project's own PostgreSQL.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ifeq ($(origin DATABASE_URL),undefined)
LOCAL_POSTGRES := yes
DATABASE_URL := postgres://postgres@127.0.0.1:5544/booking
endif
export DATABASE_URL

# The Makefile is the developer's door: it opts in to the relaxed development settings
# (production, the default, refuses to start without its secrets). DJANGO_DEVELOPMENT=0 wins.
DJANGO_DEVELOPMENT ?= 1
export DJANGO_DEVELOPMENT

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

.PHONY: help demo test bench lint format setup db migrate browser messages clean

help:
	@echo "make demo   - set up and serve the demo operator at http://demo.localhost:8000/"
	@echo "make test   - set up and run the whole suite, browser tests included"
	@echo "make bench  - hot-departure (vs pgbench) and webhook-ingest benchmarks"

$(VENV)/.installed: pyproject.toml
	@command -v python3.11 >/dev/null || { echo "python3.11 is required"; exit 1; }
	test -x $(PY) || python3.11 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

db:
ifeq ($(LOCAL_POSTGRES),yes)
	@scripts/postgres.sh
endif
	@$(PY) scripts/ensure_database.py

migrate: $(VENV)/.installed db
	@$(MANAGE) migrate_schemas --shared -v 0
	@$(MANAGE) refresh_tenant_template
	@$(MANAGE) migrate_schemas --tenant -v 0

setup: $(VENV)/.installed migrate

# Translations are committed compiled (.mo), so a machine without gettext needs nothing.
messages: $(VENV)/.installed
	$(MANAGE) makemessages -l es -l pt_BR --ignore '.venv/*' --ignore 'tests/*' --ignore 'e2e/*' --ignore 'bench/*'
	$(MANAGE) compilemessages --ignore '.venv/*'

browser:
	@scripts/chromium.sh

demo: setup
	@scripts/serve.sh

test: setup browser
	@$(PY) -m ruff check .
	@out=$$($(VENV)/bin/lint-imports --no-cache 2>&1) || { echo "$$out"; exit 1; }; \
		echo "import contracts: $$(echo "$$out" | grep -E '^Contracts:')"
	@$(PY) -m pytest -n 2 --dist loadgroup tests
	@$(PY) -m pytest e2e

bench: setup
	@$(PY) -m bench.hot_departure && $(PY) -m bench.webhooks

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) var staticfiles
