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

NOTEBOOKS := notebooks/01_preprocessing.ipynb notebooks/02_journey_analysis.ipynb notebooks/03_plan_comparison.ipynb
# The project's own kernelspec first, ahead of a user-wide "python3".
JUPYTER_ENV := JUPYTER_PATH=$(abspath $(VENV))/share/jupyter

.PHONY: test
test: $(INSTALLED) ## Run the test suite (unit, property, real-data and notebook tests)
	$(JUPYTER_ENV) $(PY) -m pytest -p no:nbval -m "not slow"
	$(JUPYTER_ENV) $(PY) -m pytest -p no:cacheprovider --nbval-lax $(NOTEBOOKS)

.PHONY: sample
sample: $(INSTALLED) ## Regenerate the bundled synthetic sample (data/sample/)
	$(PY) -m journey_utils.synthetic --sessions 9935 --seed 0 --output $(SAMPLE)

# ---- Reports ----------------------------------------------------------------
# DATA is the sessions export to report on (a path without spaces): the user's own
# export in data/raw/ when there is one, else the bundled sample.
DATA ?= $(if $(wildcard data/raw/user_journey_raw.csv),data/raw/user_journey_raw.csv,$(SAMPLE))

BUILD := build/notebooks
PROCESSED := data/processed/journeys.csv
# Which input the outputs were built from; when DATA changes, every output goes.
INPUT_STAMP := build/input.txt
PLANS_STAMP := build/plans.txt
# Every params/*.yaml except these two is one journey-analysis report.
SHARED_PARAMS := params/preprocessing.yaml
COMPARISON_PARAMS := params/comparison.yaml
PLAN_PARAMS := $(sort $(filter-out $(SHARED_PARAMS) $(COMPARISON_PARAMS),$(wildcard params/*.yaml)))
PLANS := $(basename $(notdir $(PLAN_PARAMS)))

EXECUTED := $(BUILD)/01_preprocessing.ipynb $(PLANS:%=$(BUILD)/02_journey_analysis-%.ipynb) \
	$(BUILD)/03_plan_comparison.ipynb
REPORTS := $(EXECUTED:$(BUILD)/%.ipynb=reports/%.html)
INDEX := reports/index.html
LIBRARY := $(wildcard journey_utils/*.py journey_utils/templates/*/*)
# Everything a report depends on besides its notebook and parameters.
REPORT_DEPS := $(INPUT_STAMP) $(DATA) $(LIBRARY) $(INSTALLED)
BUILDER := $(PY) -m journey_utils.build
# Path, size and modification time: cheap to read, and changes with the input file.
DATA_ID = $(abspath $(DATA)) $(shell stat -c '%s %Y' "$(DATA)" 2>/dev/null || stat -f '%z %m' "$(DATA)" 2>/dev/null)

# Reports build in parallel, one job per CPU (at most 4: each holds a kernel in
# memory), unless make was given -j itself.
JOBS ?= $(shell n=$$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2); echo $$((n < 4 ? n : 4)))

.PHONY: report
report: ## Build the HTML reports into reports/ (DATA=path to report on another export)
	@test -f "$(DATA)" || { echo "error: DATA=$(DATA): no such file" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS)) $(INDEX)

ifeq ($(filter grouped-target,$(.FEATURES)),)
$(INDEX):
	@echo "make report needs GNU make 4.3 or newer (this is $(MAKE_VERSION))" >&2; exit 1
else
$(INPUT_STAMP): FORCE
	@test -f "$(DATA)" || { echo "error: DATA=$(DATA): no such file" >&2; exit 1; }
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(DATA_ID)" ]; then \
		rm -rf $(BUILD) $(PROCESSED) reports/*.html; \
		echo "$(DATA_ID)" > $@; fi

$(PLANS_STAMP): FORCE
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(PLANS)" ]; then echo "$(PLANS)" > $@; fi

# Each rule removes the index first: it summarises reports that are being replaced.
# The builder prints what it built, or what failed and where.
$(PROCESSED) $(BUILD)/01_preprocessing.ipynb reports/01_preprocessing.html &: \
		notebooks/01_preprocessing.ipynb $(SHARED_PARAMS) $(REPORT_DEPS)
	@rm -f $(INDEX)
	@$(BUILDER) run notebooks/01_preprocessing.ipynb --params $(SHARED_PARAMS) \
		--set input_path=$(DATA) --set output_path=$(PROCESSED) --product $(PROCESSED) \
		--executed $(BUILD)/01_preprocessing.ipynb --html reports/01_preprocessing.html

$(BUILD)/02_journey_analysis-%.ipynb reports/02_journey_analysis-%.html: \
		params/%.yaml notebooks/02_journey_analysis.ipynb $(SHARED_PARAMS) $(PROCESSED) $(REPORT_DEPS)
	@rm -f $(INDEX)
	@$(BUILDER) run notebooks/02_journey_analysis.ipynb --params $< --shared $(SHARED_PARAMS) \
		--set input_path=$(DATA) --set processed_path=$(PROCESSED) \
		--executed $(BUILD)/02_journey_analysis-$*.ipynb --html reports/02_journey_analysis-$*.html

$(BUILD)/03_plan_comparison.ipynb reports/03_plan_comparison.html &: \
		notebooks/03_plan_comparison.ipynb $(COMPARISON_PARAMS) $(SHARED_PARAMS) $(PROCESSED) $(REPORT_DEPS)
	@rm -f $(INDEX)
	@$(BUILDER) run notebooks/03_plan_comparison.ipynb --params $(COMPARISON_PARAMS) --shared $(SHARED_PARAMS) \
		--set input_path=$(DATA) --set processed_path=$(PROCESSED) \
		--executed $(BUILD)/03_plan_comparison.ipynb --html reports/03_plan_comparison.html

# The comparison is the longest report: listed first, it starts first under -j.
$(INDEX): reports/03_plan_comparison.html $(REPORTS) $(PLANS_STAMP) $(INPUT_STAMP) $(LIBRARY)
	@$(BUILDER) index --data $(DATA) --output $@ $(EXECUTED)
endif

.PHONY: notebooks
notebooks: $(INSTALLED) ## Re-run the notebooks in notebooks/ in place on the sample (refreshes stored outputs)
	$(JUPYTER_ENV) $(BUILDER) refresh $(NOTEBOOKS)

.PHONY: lab
lab: $(INSTALLED) ## Open JupyterLab in the project environment to edit the notebooks (LAB_ARGS=... for more options)
	$(JUPYTER_ENV) $(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

.PHONY: FORCE
FORCE:

.PHONY: bench
bench: $(INSTALLED) ## Time the pipeline against per-row Python and DuckDB (BENCH_ARGS=--10m for 10M sessions)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

.PHONY: lock
lock: $(INSTALLED) ## Re-resolve requirements.lock from pyproject.toml (then review the diff)
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --no-header --no-annotate --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --extra report --extra cluster --extra dev -o requirements.lock pyproject.toml

.PHONY: clean
clean: ## Remove build outputs and reports (keeps .venv)
	rm -rf build reports/*.html data/processed .pytest_cache .hypothesis

.PHONY: distclean
distclean: clean ## Also remove the virtual environment
	rm -rf $(VENV)
