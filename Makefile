# Channel crossing forecaster. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install the package with its test extras

browser: ## Install Debian's headless Chromium for the page test (needs root or sudo)
	@command -v chromium >/dev/null 2>&1 || bash tools/install_chromium.sh

outlook: $(STAMP) ## Main job: the weekly outlook (offline: weather-free from the committed snapshot) and the HTML page
	$(BIN)/forecast outlook
	$(BIN)/forecast report --latest

test: $(STAMP) browser ## Run the test suite (lint, then pytest)
	$(BIN)/ruff check forecast tests
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## Run the tests without the browser and slow tests
	$(BIN)/python -m pytest -q -m "not browser and not slow"

backtest: $(STAMP) ## Standard real-data backtest (KNMI proxy + weather-free), writes experiments/001-standard-backtest
	$(BIN)/python experiments/001-standard-backtest/run.py

bench: $(STAMP) ## Benchmarks: backtest wall time, peak memory, outlook time
	$(BIN)/python tools/bench.py

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check forecast tests
	$(BIN)/ruff format --check forecast tests

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format forecast tests
	$(BIN)/ruff check --fix forecast tests

clean: ## Remove the virtual environment, caches and outputs
	rm -rf $(VENV) .pytest_cache .ruff_cache out *.egg-info

.PHONY: help venv browser outlook test test-fast backtest bench lint format clean
