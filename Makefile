# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a step
# they call. A DATABASE_URL given by the user wins over the project's own PostgreSQL, which
# listens on LOCAL_PG_PORT (5544 by default). What the project starts is recorded under var/run/
# and `make stop` stops it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

LOCAL_PG_PORT ?= 5544
ifeq ($(origin DATABASE_URL),undefined)
LOCAL_POSTGRES := yes
DATABASE_URL := postgres://postgres@127.0.0.1:$(LOCAL_PG_PORT)/booking
endif
export DATABASE_URL LOCAL_PG_PORT

# The Makefile is the developer's door: it opts in to the relaxed development settings
# (production, the default, refuses to start without its secrets). DJANGO_DEVELOPMENT=0 wins.
DJANGO_DEVELOPMENT ?= 1
export DJANGO_DEVELOPMENT

# A virtualenv named on the command line (`make demo VENV=/path`) is used as it is, with
# nothing installed into it; by default the project's own one, .venv, is created and kept up to
# date with pyproject.toml.
ifeq ($(origin VENV),command line)
VENV_READY :=
else
VENV := .venv
VENV_READY := $(VENV)/.installed
endif
export VENV
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

.PHONY: help demo test stop bench lint format setup db migrate browser oidc messages clean

help:
	@echo "make demo   - set up and serve the demo operator at http://demo.localhost:8000/"
	@echo "make test   - set up and run the whole suite, browser tests included"
	@echo "make stop   - stop every service the project started (PostgreSQL included)"
	@echo "make bench  - hot-departure (vs pgbench) and webhook-ingest benchmarks"

# setuptools warns at length about every editable install of a flat layout: nothing is wrong.
$(VENV)/.installed: pyproject.toml
	@command -v python3.11 >/dev/null || { echo "venv: python3.11 is needed" \
		"(Debian: apt-get install python3.11 python3.11-venv)"; exit 1; }
	@echo "venv: installing the project and its dependencies into $(VENV)"
	@test -x $(PY) || python3.11 -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -q -e '.[dev]'
	@touch $@

db:
ifeq ($(LOCAL_POSTGRES),yes)
	@scripts/postgres.sh
endif
	@$(PY) scripts/ensure_database.py

migrate: $(VENV_READY) db
	@$(MANAGE) migrate_schemas --shared -v 0
	@$(MANAGE) refresh_tenant_template
	@$(MANAGE) migrate_schemas --tenant -v 0

setup: $(VENV_READY) migrate

# Translations are committed compiled (.mo), so a machine without gettext needs nothing.
messages: $(VENV_READY)
	$(MANAGE) makemessages -l es -l pt_BR --ignore '.venv/*' --ignore 'tests/*' --ignore 'e2e/*' --ignore 'bench/*'
	$(MANAGE) compilemessages --ignore '.venv/*'

browser:
	@scripts/chromium.sh

oidc:
	@scripts/oidc.sh

demo: setup oidc
	@scripts/serve.sh

# Ends by saying what it left running (the project's PostgreSQL), pass or fail.
test: setup browser oidc
	@status=0; \
	$(PY) -m ruff check . && \
	{ out=$$($(VENV)/bin/lint-imports --no-cache 2>&1) || { echo "$$out"; false; }; } && \
	echo "import contracts: $$(echo "$$out" | grep -E '^Contracts:')" && \
	$(PY) -m pytest -n 2 --dist loadgroup tests && \
	$(PY) -m pytest e2e || status=$$?; \
	scripts/services.sh left-running; \
	exit $$status

stop:
	@scripts/services.sh stop

bench: setup
	@$(PY) -m bench.hot_departure && $(PY) -m bench.webhooks

lint: $(VENV_READY)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV_READY)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean: stop
	rm -rf .venv var staticfiles
