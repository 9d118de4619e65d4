# Customer Journey Analytics — the entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules -O

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

SAMPLE := data/sample/user_journeys_sample.csv

.PHONY: help
help: ## List the targets
	@echo "Customer Journey Analytics"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

# The venv is rebuilt whenever the pinned set or the package metadata changes.
$(INSTALLED): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

.PHONY: install
install: $(INSTALLED) ## Create .venv with the pinned dependencies and the package (editable)

.PHONY: test
test: $(INSTALLED) ## Run the test suite (unit, property, real-data and notebook tests)
	$(PY) -m pytest

.PHONY: sample
sample: $(INSTALLED) ## Regenerate the bundled synthetic sample (data/sample/)
	$(PY) -m journey_utils.synthetic --sessions 9935 --seed 0 --output $(SAMPLE)

.PHONY: bench
bench: $(INSTALLED) ## Time the pipeline against per-row Python and DuckDB (BENCH_ARGS=--10m for 10M sessions)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

.PHONY: lock
lock: $(INSTALLED) ## Re-resolve requirements.lock from pyproject.toml (then review the diff)
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --no-header --no-annotate --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --extra report --extra dev -o requirements.lock pyproject.toml

.PHONY: clean
clean: ## Remove build outputs and reports (keeps .venv)
	rm -rf build reports/*.html data/processed .pytest_cache .hypothesis

.PHONY: distclean
distclean: clean ## Also remove the virtual environment
	rm -rf $(VENV)
