# One entry point per job. Every target sets up what it needs: a fresh machine needs only
# Python 3.11+, Node 20+ and the package registries.
SHELL := /bin/bash
PYTHON ?= python3
ENV ?= dev
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv test check unit integration infra gameday synth deploy bench lint clean

help:
	@echo "make gameday      bring up the sandbox, inject every runbook fault, report (gameday-report/)"
	@echo "make test         the whole test suite (lint, types, unit, infra, gates, integration, drills)"
	@echo "make check        the fast tier for the inner loop: the same without the long drills (< 90 s)"
	@echo "make synth        synthesize every stack with cdk-nag (ENV=dev|prod)"
	@echo "make deploy       cdk deploy to the account in your AWS credentials (ENV=prod)"
	@echo "make bench        benchmarks, written to bench-results/"
	@echo "make faults       the fault matrix: every AWS call x 4 faults (bench-results/fault-matrix.md)"
	@echo "make figures      the dated snapshot of measured figures the docs include (docs/figures/snapshot.md)"
	@echo "make docs         the docs site, built strictly into site/ (make docs-serve: on 127.0.0.1:8000)"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# checkov in its own venv: every checkov 3.x pins boto3==1.35.49 (and packaging<24, networkx<2.7), below our pins.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $@

venv: $(STAMP) $(CHECKOV_STAMP)

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --silent
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff check functions infra sandbox remedy tests app.py
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# ruff and mypy, while each env's templates are synthesized into the cache beside them (infra.template: the
# test workers then find them made instead of both waiting for the first synthesis; a no-op when nothing changed).
ENVS := $(basename $(notdir $(wildcard config/*.yaml)))
define LINT_AND_SYNTH
	@pids=""; for env in $(ENVS); do $(BIN)/python -m infra.template $$env & pids="$$pids $$!"; done; \
	$(BIN)/ruff check functions infra sandbox remedy tests app.py && $(BIN)/mypy; lint=$$?; \
	for pid in $$pids; do wait $$pid || { echo "synthesis failed (make synth ENV=... says why)"; exit 1; }; done; \
	exit $$lint
endef

# The whole correctness suite (CI runs it): the game day, the fault matrix and the other drills included.
test: $(STAMP) $(CHECKOV_STAMP)
	$(LINT_AND_SYNTH)
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15 tests

# The inner loop: everything but the drills marked `drill` (game day, fault matrix, storm, secrets scan).
check: $(STAMP) $(CHECKOV_STAMP)
	$(LINT_AND_SYNTH)
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=10 -m "not drill and not slow" tests

# Measure which tests make check leaves to make test (tests/slow.txt; tests/slow_list.py says how).
slow-list: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=0 -m "not drill" -p no:cacheprovider tests > .slow-list.log || \
		{ tail -20 .slow-list.log; exit 1; }
	$(BIN)/python -m tests.slow_list .slow-list.log > tests/slow.txt
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=0 -m "not drill and not slow" -p no:cacheprovider tests > .slow-list-check.log || \
		{ tail -20 .slow-list-check.log; exit 1; }
	$(BIN)/python -m tests.slow_list --add .slow-list-check.log > tests/slow.txt.new && mv tests/slow.txt.new tests/slow.txt
	@echo "tests/slow.txt: $$(grep -vc '^#' tests/slow.txt) tests in make test only"

gameday: $(STAMP)
	$(BIN)/remedy gameday --env $(ENV)

synth: $(STAMP) $(NODE_STAMP)
	npx cdk synth --quiet -c env=$(ENV)
	@echo "templates in cdk.out/ (cdk-nag passed: synth fails on any unacknowledged finding)"

deploy: $(STAMP) $(NODE_STAMP)
	npx cdk deploy --all -c env=$(ENV) --require-approval broadening

bench: $(STAMP)
	$(BIN)/python -m remedy.bench recovery
	$(BIN)/python -m remedy.bench storm
	$(BIN)/python -m remedy.bench

.PHONY: faults
faults: $(STAMP)
	$(BIN)/remedy faults --env $(ENV)

# The docs site (mkdocs.yml, docs/): strict, so a broken link, a missing page or snippet fails. No network needed.
.PHONY: docs docs-serve figures
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8000

# From bench-results/ (make bench, make faults) and gameday-report/ (make gameday): commit docs/figures/ after.
figures: $(STAMP)
	$(BIN)/python -m remedy.figures

clean:
	rm -rf cdk.out gameday-report bench-results .sandbox site
