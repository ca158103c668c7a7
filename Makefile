# InMail follow-ups. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp

.PHONY: install run test lint unit integration contract bench fmt clean

install: $(STAMP)

# Reinstall only when the project's dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
	@touch $(STAMP)

run: install
	$(BIN)/inmail serve

test: install lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check functions tests
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest tests/unit

integration: install
	$(BIN)/python -m pytest tests/integration

contract: install
	$(BIN)/python -m pytest tests/contract

schema: install
	$(BIN)/strawberry export-schema inmail.api.schema:schema --app-dir functions --output graphql/schema.graphql

bench: install
	@echo "No benchmarks yet (issue 7)."

fmt: install
	$(BIN)/ruff check --fix functions tests
	$(BIN)/ruff format functions tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
