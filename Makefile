# InMail follow-ups. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp

.PHONY: install run test test-fast test-slow lint unit rules integration contract bench bench-check bench-local fuzz load fmt clean tools requirements operations playground-assets browser package

install: $(STAMP)

# Reinstall only when the project's dependency list changes.
$(STAMP): pyproject.toml
	@echo "Installing into $(VENV)/ (the first time takes about 3 minutes; later runs skip this)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -e '.[local,dev]'
	@touch $(STAMP)

run: install
	$(BIN)/inmail serve

# The tiers (docs/development.md), the fast one first so that it fails first:
# - fast: the domain and services, the store contract on both stores, and the SPEC rules
#   through the GraphQL schema and the Lambda's HTTP path on the in-memory store;
# - slow: what needs DynamoDB (moto: cursors, faults, races, handlers), the local stack
#   (`inmail serve` subprocesses), fuzzing, load, and the template/package checks.
FAST_TESTS := tests/unit tests/store tests/rules
SLOW_TESTS := tests/integration tests/contract
# pytest-xdist workers for the slow tier (its moto tests are CPU bound); 0 runs it in one process.
TEST_WORKERS ?= 2

test: lint test-fast test-slow

# The edit loop: the rules and the store contract (about 20 s on a quiet 2-core box).
test-fast: install
	$(BIN)/python -m pytest $(FAST_TESTS)

test-slow: install tools browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(SLOW_TESTS)

lint: install
	$(BIN)/ruff check functions tests bench scripts
	$(BIN)/ruff format --check functions tests bench scripts
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest tests/unit

rules: install
	$(BIN)/python -m pytest tests/rules

integration: install browser
	$(BIN)/python -m pytest tests/integration

# Debian's chromium for the browser tests (tests/integration/test_browser.py): Playwright
# drives it; Playwright's own browser downloads are never used.
browser:
	@scripts/system_packages.sh chromium

contract: install
	$(BIN)/python -m pytest tests/contract

schema: install
	$(BIN)/strawberry export-schema inmail.api.schema:schema --app-dir functions --output graphql/schema.graphql

# aws-sam-cli pins exact boto3/botocore versions: it lives in its own venv, never in .venv.
# $(TOOLS)/lambda is a clean venv holding functions/requirements.txt and nothing else (on the
# Lambda runtime's Python when one is found): the contract tests import every Handler in it.
TOOLS := .venv-tools
SAM_CLI_VERSION ?= 1.170.0
SAM_STAMP := $(TOOLS)/.sam-$(SAM_CLI_VERSION)-stamp
LAMBDA_VENV := $(TOOLS)/lambda
LAMBDA_STAMP := $(LAMBDA_VENV)/.requirements-stamp
LAMBDA_PYTHON ?= $(firstword $(foreach p,python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13),\
	$(shell $(p) -c 'import sys; print(sys.executable)' 2>/dev/null)) $(PYTHON))

tools: $(SAM_STAMP) $(LAMBDA_STAMP)

$(SAM_STAMP):
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@rm -f $(TOOLS)/.sam-*-stamp
	@touch $@

$(LAMBDA_STAMP): functions/requirements.txt
	rm -rf $(LAMBDA_VENV)
	$(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/python -m pip install --quiet -r functions/requirements.txt
	@touch $@

# Build both functions with `sam build` (no Docker) on the runtime's Python: sam looks for
# `python3.13` on PATH, so LAMBDA_PYTHON's bin dir goes first. Every dependency is a pure
# wheel, so the arm64 build needs no container; scripts/artifact_sizes.py prints the sizes
# and fails on a compiled extension built for the wrong architecture or a module shipped
# without bytecode. SAM_CONFIG_ENV=prod builds with the prod settings (no cache).
# sam build strips *.pyc and Lambda's /var/task is read-only, so without this step every cold
# start compiles every module (~1 s more); unchecked-hash because unzipping changes mtimes.
SAM_CONFIG_ENV ?= default
LAMBDA_RUNTIME := python3.13

package: $(SAM_STAMP)
	@$(LAMBDA_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' || { \
	  echo "package: $(LAMBDA_RUNTIME) not found (pyenv install 3.13, or LAMBDA_PYTHON=/path/to/python3.13)" >&2; exit 1; }
	PATH="$(dir $(LAMBDA_PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/sam build \
	  --config-file infra/samconfig.toml --config-env $(SAM_CONFIG_ENV)
	$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build/*Function
	@$(LAMBDA_PYTHON) scripts/artifact_sizes.py .aws-sam

# functions/requirements.txt from pyproject.toml's [project] dependencies (a test checks drift).
requirements:
	$(PYTHON) scripts/gen_requirements.py

# The playground's GraphiQL/React files from the npm packages pinned in playground/package-lock.json
# into functions/inmail/api/static/vendor/ (committed: docs/playground.md says why). Needs npm.
playground-assets:
	$(PYTHON) scripts/playground_assets.py

# Each graphql/operations/*.graphql with the fragments it uses, copied from graphql/fragments.graphql
# (a test checks drift).
operations: install
	$(BIN)/python scripts/gen_operations.py

# Benchmarks (docs/performance.md): writes bench/results/*.json and prints one table, in
# about 12 minutes on 2 cores. BENCH_ARGS=--quick for a smoke run, --full for 10k among 100k.
# The cold start's instructions are counted by valgrind's callgrind (installed here, once).
bench: install
	@scripts/system_packages.sh valgrind
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The local stack as its data grows (docs/performance.md): sendInMail p50/p95 at 0, 1k, 5k and
# 20k threads, snapshots of those tables, and `make load`, each beside the same measure on moto
# as it ships (INMAIL_ENGINE_UNPATCHED=1) in the same run. Writes bench/results/local_stack.json.
# About 15 minutes on 2 busy cores (moto as shipped is the slow part); BENCH_LOCAL_ARGS=--rounds 3
# for medians of three load runs per engine (about 40 minutes).
bench-local: install
	$(BIN)/python -m bench.local_stack $(BENCH_LOCAL_ARGS)

# Fails (exit 1) when a figure in bench/results/ breaks its budget; runs no benchmark.
bench-check:
	$(PYTHON) bench/check.py

# Fuzzing (docs/reliability.md): schemathesis on every query and mutation as every
# role, FUZZ_EXAMPLES per operation and role (12 with a fixed seed in `make test`), a new seed
# each run unless FUZZ_SEED is set; prints the table. About 4 minutes at 100.
FUZZ_EXAMPLES ?= 100
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$${FUZZ_SEED:-$$(date +%s)} \
	  $(BIN)/python -m pytest tests/integration/test_fuzz.py -q -s -p no:cacheprovider

# Load (docs/reliability.md): `inmail serve --no-sweeper` on free loopback ports,
# LOAD_CLIENTS concurrent clients x LOAD_OPS operations each (sends, follow-ups, cancels,
# reschedules, replies, queries) with `inmail sweep --now <future>` running alongside; then
# the audit (no 5xx, nothing lost or charged twice, the ledger balanced). Prints the table,
# writes bench/results/load.json, exits 1 on a broken check. About 4 minutes on 2 cores.
LOAD_CLIENTS ?= 20
LOAD_OPS ?= 75
load: install
	$(BIN)/python -m bench.load --clients $(LOAD_CLIENTS) --ops $(LOAD_OPS) $(LOAD_ARGS)

fmt: install
	$(BIN)/ruff check --fix functions tests
	$(BIN)/ruff format functions tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
