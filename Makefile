# Customer Journey Analytics — the entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
# No output sync (-O): a long report prints progress lines as it runs; each line is written whole.
MAKEFLAGS += --no-builtin-rules

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
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-13s %s\n", $$1, $$2}'

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

# Test processes: one per CPU (at most 4); a test file stays in one process, so that the
# reports it builds once are built once.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2); echo $$((n < 4 ? n : 4)))

.PHONY: test
test: $(INSTALLED) lint ## Lint, then run the tests (unit, property, real-data, doctests and notebook outputs)
	$(JUPYTER_ENV) $(PY) -m pytest -p no:nbval -m "not slow" -n $(TEST_JOBS) --dist loadfile tests journey_utils \
		--doctest-modules
	$(JUPYTER_ENV) $(PY) -m pytest -p no:cacheprovider --nbval-lax $(NOTEBOOKS)

.PHONY: lint
lint: $(INSTALLED) ## Check the code with ruff (settings in ruff.toml)
	$(VENV)/bin/ruff check journey_utils tests benchmarks

.PHONY: sample
sample: $(INSTALLED) ## Regenerate the bundled synthetic sample (data/sample/)
	$(PY) -m journey_utils.synthetic --sessions 9935 --seed 0 --output $(SAMPLE)

# ---- Reports ----------------------------------------------------------------
# DATA is the export to report on: a CSV file (compressed or archived too), a Parquet
# file, or a folder of parts; with ENGINE=dask also a glob pattern of parts, quoted
# (DATA='exports/*.parquet'). Without DATA: what is in data/raw/ (one file or folder
# there is the export; several files are the parts of one export), else the bundled
# sample. DATA reaches the recipes only through the environment ("$$DATA"), so any
# path works, spaces included.
ifeq ($(origin DATA),undefined)
DATA := $(shell found=$$(find data/raw -mindepth 1 -maxdepth 1 ! -name '.*' 2>/dev/null | LC_ALL=C sort); \
	n=$$(printf '%s' "$$found" | grep -c '^'); \
	if [ "$$n" = 0 ]; then echo $(SAMPLE); elif [ "$$n" = 1 ]; then printf '%s' "$$found"; else echo data/raw; fi)
endif
export DATA

# Where the raw sessions are read, once, into the prepared per-user data every report reads:
#   ENGINE=pandas  in one process (the default);
#   ENGINE=dask    on a Dask cluster: the one at SCHEDULER=tcp://host:8786, else a local
#                  cluster of DASK_WORKERS workers (default: one per CPU) with DASK_MEMORY
#                  memory each (e.g. 2GiB; default: the machine's memory shared between them).
# Both engines write the same prepared data, so the reports are the same.
ENGINE ?= pandas
SCHEDULER ?=
DASK_WORKERS ?=
DASK_MEMORY ?=
DASK_OPTIONS := $(if $(filter dask,$(ENGINE)),$(if $(SCHEDULER),--scheduler $(SCHEDULER)) \
	$(if $(DASK_WORKERS),--workers $(DASK_WORKERS)) $(if $(DASK_MEMORY),--memory-limit $(DASK_MEMORY)))

BUILD := build/notebooks
# The prepared data (one row per user, written by `build prepare`; every notebook reads it)
# and the processed journeys that 01 writes for analysts.
PREPARED := data/processed/users
PREPARED_MANIFEST := $(PREPARED)/manifest.json
PROCESSED := data/processed/journeys.parquet
# Which input the outputs were built from; when DATA changes, every output goes.
INPUT_STAMP := build/input.txt
# The reports that depend on the data: one journey analysis per plan present, listed by
# `build plans` after preprocessing (a generated makefile, included below).
GENERATED := build/reports.mk
RESOLVED := build/params
MANIFEST := build/plans.json
# Every params file is optional; build/params/<name>.present records whether each exists,
# so that deleting one rebuilds what it set.
SHARED_PARAMS := $(wildcard params/preprocessing.yaml)
COMPARISON_PARAMS := $(wildcard params/comparison.yaml)
ANALYSIS_PARAMS := $(sort $(wildcard params/analysis.yaml params/plans/*.yaml params/plans/*.yml))
PRESENT := $(RESOLVED)/preprocessing.present
PLAN_FILES_STAMP := $(RESOLVED)/plan-files.txt
# What the prepared data is made with (the preprocessing settings and every session window a
# report uses: the notebooks' defaults and the params files that set one), rewritten only when
# it changes: editing a report's other parameters does not read the export again.
PREPARE_SETTINGS := $(RESOLVED)/prepare.json
PREPARE_CHECKED := $(RESOLVED)/prepare.checked

INDEX := reports/index.html
# A report depends on the analysis modules it runs and on the builder that renders it (not on
# the generator in journey_utils/synthetic/, nor on the cluster path).
LIBRARY := $(wildcard journey_utils/*.py journey_utils/build/*.py journey_utils/build/templates/*/*)
# Everything a report depends on besides its notebook and parameters (the input itself
# through INPUT_STAMP, which changes with its path, size or date).
REPORT_DEPS := $(INPUT_STAMP) $(LIBRARY) $(INSTALLED)
# The prepared data depends on the analysis modules, the cluster path and the build step.
PREPARE_LIBRARY := $(wildcard journey_utils/*.py journey_utils/cluster/*.py journey_utils/build/*.py)
BUILDER := $(PY) -m journey_utils.build

# Reports build in parallel, one job per CPU (at most 4: each holds a kernel in
# memory), unless make was given -j itself.
JOBS ?= $(shell n=$$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2); echo $$((n < 4 ? n : 4)))

# DATA must be a file or a folder (with ENGINE=dask also a glob matching at least one file),
# and ENGINE one of the two: say so before anything runs.
define CHECK_DATA
case "$(ENGINE)" in pandas|dask) ;; *) echo "error: ENGINE=$(ENGINE): choose ENGINE=pandas (one process) or ENGINE=dask (a Dask cluster)" >&2; exit 1;; esac; \
if [ -z "$$DATA" ]; then echo "error: DATA is empty; give the export to report on: make report DATA=path/to/export.csv" >&2; exit 1; \
elif [ -f "$$DATA" ] || [ -d "$$DATA" ]; then :; \
elif [ -e "$$DATA" ]; then echo "error: DATA=$$DATA: not a regular file (a FIFO, device or socket); give the export file, or a folder of its parts" >&2; exit 1; \
elif [[ "$$DATA" == *[[*?]* ]]; then \
	if [ "$(ENGINE)" != dask ]; then echo "error: DATA=$$DATA: a pattern of files is read by ENGINE=dask only (make report ENGINE=dask DATA='...'); give one file, or a folder of the parts" >&2; exit 1; \
	elif ! compgen -G "$$DATA" >/dev/null; then echo "error: DATA=$$DATA: the pattern matches no file" >&2; exit 1; fi; \
else echo "error: DATA=$$DATA: no such file or folder" >&2; exit 1; fi
endef

# The environment is made by make report itself, before the steps below; when it was told to
# leave it alone (make -o .venv/.installed report), the steps are told so too (make does not
# pass -o down).
# make report runs in two steps: preprocessing and the list of reports (make restarts once
# it has read the new list), then the reports in parallel (PHASE=reports), where the stamps
# below, just refreshed, are not re-checked, so that the longest report starts first.
STAMP_CHECK := $(if $(filter reports,$(PHASE)),,FORCE)

.PHONY: report
report: $(INSTALLED) ## Build the HTML reports into reports/ (DATA=path: another export, a file or a folder of parts; ENGINE=dask: read it on a Dask cluster, SCHEDULER=tcp://host:8786 or a local one of DASK_WORKERS with DASK_MEMORY each, DATA may then be a glob)
	@$(CHECK_DATA)
	@keep=$$(if [ $(INSTALLED) -ot requirements.lock ] || [ $(INSTALLED) -ot pyproject.toml ]; then \
		echo "-o $(INSTALLED)"; fi); \
	$(MAKE) --no-print-directory -s $$keep $(GENERATED) $(RESOLVED)/comparison.present && \
	$(MAKE) --no-print-directory -s $$keep $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS)) PHASE=reports $(INDEX)

ifeq ($(filter grouped-target,$(.FEATURES)),)
$(INDEX):
	@echo "make report needs GNU make 4.3 or newer (this is $(MAKE_VERSION))" >&2; exit 1
else
# The journey-analysis reports are known once the data has been read: make builds the
# generated makefile first (running preprocessing), reads it, and goes on with the reports.
ifneq ($(filter $(INDEX) reports/% build/%,$(MAKECMDGOALS)),)
include $(GENERATED)
endif

ANALYSES := $(ANALYSIS_SLUGS:%=02_journey_analysis-%)
EXECUTED := $(BUILD)/01_preprocessing.ipynb $(ANALYSES:%=$(BUILD)/%.ipynb) $(BUILD)/03_plan_comparison.ipynb
REPORTS := $(EXECUTED:$(BUILD)/%.ipynb=reports/%.html)

# Path, size and date of the input (every part's, for a folder or a glob): cheap, and changes with it.
$(INPUT_STAMP): $(STAMP_CHECK)
	@$(CHECK_DATA)
	@mkdir -p $(@D)
	@id="$$(realpath "$$DATA" 2>/dev/null || printf '%s' "$$DATA") $$(if [ -d "$$DATA" ]; then \
		find -L "$$DATA" -type f ! -name '.*' -printf '%P %s %T@\n' | LC_ALL=C sort | cksum; \
		elif [ -e "$$DATA" ]; then stat -L -c '%s %Y' "$$DATA" 2>/dev/null || stat -L -f '%z %m' "$$DATA"; \
		else compgen -G "$$DATA" | LC_ALL=C sort | while IFS= read -r part; do \
			stat -L -c '%n %s %Y' "$$part" 2>/dev/null || stat -L -f '%N %z %m' "$$part"; done | cksum; fi)"; \
	if [ "$$(cat $@ 2>/dev/null)" != "$$id" ]; then \
		rm -rf $(BUILD) $(PREPARED) $(GENERATED) $(MANIFEST) $(RESOLVED)/02_*.yaml data/processed/journeys.* \
			reports/*.html; \
		mkdir -p $(@D); printf '%s\n' "$$id" > $@; fi

# Whether an optional params file exists (deleting one must rebuild what it set).
$(RESOLVED)/%.present: $(STAMP_CHECK)
	@mkdir -p $(@D)
	@state=$$(if [ -f params/$*.yaml ]; then echo present; else echo absent; fi); \
	if [ "$$(cat $@ 2>/dev/null)" != "$$state" ]; then echo $$state > $@; fi

# Which files params/plans/ holds (adding or removing one re-lists the reports).
$(PLAN_FILES_STAMP): $(STAMP_CHECK)
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(ANALYSIS_PARAMS)" ]; then echo "$(ANALYSIS_PARAMS)" > $@; fi

# The settings of the prepared data, from the params files that can set them and the notebooks'
# defaults; prepare.json keeps its date when they are unchanged (prepare.checked records the check).
$(PREPARE_CHECKED): $(SHARED_PARAMS) $(PRESENT) $(ANALYSIS_PARAMS) $(PLAN_FILES_STAMP) $(RESOLVED)/analysis.present \
		$(COMPARISON_PARAMS) $(RESOLVED)/comparison.present $(NOTEBOOKS) $(PREPARE_LIBRARY) $(INSTALLED)
	@$(BUILDER) prepare-settings --params params --output $(PREPARE_SETTINGS)
	@touch $@

$(PREPARE_SETTINGS): $(PREPARE_CHECKED) ;

# The one step that reads the export (ENGINE=dask: on the cluster); written whole or not at all.
$(PREPARED_MANIFEST): $(PREPARE_SETTINGS) $(INPUT_STAMP) $(PREPARE_LIBRARY) $(INSTALLED)
	@rm -f $(INDEX)
	@$(BUILDER) prepare --data "$$DATA" --output $(PREPARED) --params params --engine $(ENGINE) $(DASK_OPTIONS)

# Each rule removes the index first: it summarises reports that are being replaced.
# The builder prints what it built, or what failed and where; long steps say which cell runs.
$(PROCESSED) $(BUILD)/01_preprocessing.ipynb reports/01_preprocessing.html &: \
		notebooks/01_preprocessing.ipynb $(SHARED_PARAMS) $(PRESENT) $(PREPARED_MANIFEST) $(REPORT_DEPS)
	@rm -f $(INDEX)
	@$(BUILDER) run notebooks/01_preprocessing.ipynb $(if $(SHARED_PARAMS),--params $(SHARED_PARAMS)) \
		--set input_path=$(PREPARED) --set output_path=$(PROCESSED) --product $(PROCESSED) \
		--executed $(BUILD)/01_preprocessing.ipynb --html reports/01_preprocessing.html

# The plans in the data, and each report's parameters (build/params/02_journey_analysis-<slug>.yaml,
# rewritten only when they change, so one params change rebuilds one report).
$(GENERATED): $(PREPARED_MANIFEST) $(ANALYSIS_PARAMS) $(PLAN_FILES_STAMP) $(RESOLVED)/analysis.present \
		$(SHARED_PARAMS) $(PRESENT) notebooks/02_journey_analysis.ipynb $(INSTALLED)
	@$(BUILDER) plans --users $(PREPARED) --params params --output $@

$(RESOLVED)/02_journey_analysis-%.yaml: $(GENERATED) ;

$(BUILD)/02_journey_analysis-%.ipynb reports/02_journey_analysis-%.html: $(RESOLVED)/02_journey_analysis-%.yaml \
		notebooks/02_journey_analysis.ipynb $(SHARED_PARAMS) $(PRESENT) $(PREPARED_MANIFEST) $(REPORT_DEPS)
	@rm -f $(INDEX)
	@$(BUILDER) run notebooks/02_journey_analysis.ipynb --params $< $(if $(SHARED_PARAMS),--shared $(SHARED_PARAMS)) \
		--set input_path=$(PREPARED) \
		--executed $(BUILD)/02_journey_analysis-$*.ipynb --html reports/02_journey_analysis-$*.html

$(BUILD)/03_plan_comparison.ipynb reports/03_plan_comparison.html &: notebooks/03_plan_comparison.ipynb \
		$(COMPARISON_PARAMS) $(RESOLVED)/comparison.present $(SHARED_PARAMS) $(PRESENT) $(PREPARED_MANIFEST) \
		$(REPORT_DEPS)
	@rm -f $(INDEX)
	@$(BUILDER) run notebooks/03_plan_comparison.ipynb $(if $(COMPARISON_PARAMS),--params $(COMPARISON_PARAMS)) \
		$(if $(SHARED_PARAMS),--shared $(SHARED_PARAMS)) --set input_path=$(PREPARED) \
		--executed $(BUILD)/03_plan_comparison.ipynb --html reports/03_plan_comparison.html

# The comparison is the longest report: listed first, it starts first under -j.
$(INDEX): reports/03_plan_comparison.html $(REPORTS) $(GENERATED) $(INPUT_STAMP) $(LIBRARY)
	@$(BUILDER) index --data "$$DATA" --users $(PREPARED) --manifest $(MANIFEST) --output $@ $(EXECUTED)
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

.PHONY: bench-report
bench-report: $(INSTALLED) ## Time clean `make report` builds on generated exports (BENCH_ARGS="--sizes sample,1m,10m")
	$(PY) benchmarks/bench_report.py $(BENCH_ARGS)

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
