# The two commands: `make run` starts Patchwire, `make test` runs every test.
# Both set everything up first (idempotently) with scripts/setup.sh.
PORT ?= 3000
export LITELLM_LOCAL_MODEL_COST_MAP := True
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_USE_SYSTEM_BUN := 1
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)

.PHONY: run test setup bench lint

setup:
	@./scripts/setup.sh

run: setup
	@PORT=$(PORT) ./scripts/run.sh

test: setup
	@echo "==> Running the tests"
	@.venv/bin/python -m pytest

bench: setup
	@.venv/bin/python bench/runtime_overhead.py

lint: setup
	@.venv/bin/ruff check runtime components_catalog editor tests bench
