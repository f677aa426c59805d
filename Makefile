# countyhub: the two commands are `make demo` (the main job) and `make test` (the whole suite).
# Both create the project-local virtual environment .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint bench install clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,demo,cluster]' --config-settings editable_mode=lenient
	touch $@

install: $(BIN)/.installed

## The main job: seed the demo county, run the whole flow once, serve the catalog on :8080.
demo: $(BIN)/.installed
	$(BIN)/countyhub demo

## The whole test suite (needs PostgreSQL, MariaDB and Redis on 127.0.0.1; installs Chromium if missing): every tier
## but the fast one in order, then the fast tier on two processes (1,183 tests, 2-6 min on two cores).
test: $(BIN)/.installed
	bash scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/python scripts/lint_imports.py
	$(BIN)/python -m pytest -ra -m 'not fast'
	$(BIN)/python -m pytest -ra -m fast -n 2

## The fast tier alone: no servers, no browser, no dbt, no Airflow, no bad-input corpus (about two minutes).
test-fast: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/python scripts/lint_imports.py
	$(BIN)/python -m pytest -ra -m fast -n 2

bench: $(BIN)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf .countyhub test-artifacts dbt_project/target dbt_project/logs
