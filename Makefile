# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run check test messages css screenshots bench

$(BIN)/kyoso: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/kyoso
	$(BIN)/kyoso compile-messages

# Kyoso on its embedded defaults (SQLite, embedded Redis, database search) with demo data.
run: install
	$(BIN)/kyoso migrate
	$(BIN)/kyoso seed-demo
	$(BIN)/kyoso run

tests/services/node_modules/.installed: tests/services/package-lock.json
	npm ci --prefix tests/services --no-audit --no-fund --loglevel=error
	touch $@

# Code checks: lint and import order, the layers' import contracts, types of models/ and search/ (pyproject.toml).
check: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The code checks, then the whole suite on PostgreSQL, then again on SQLite, with real Redis and Meilisearch.
test: check tests/services/node_modules/.installed
	KYOSO_TEST_DB=postgres $(BIN)/pytest
	KYOSO_TEST_DB=sqlite $(BIN)/pytest --ignore=tests/browser  # the browser tests once: they test pages, not SQL

# After changing user-visible text: refresh the catalogues, then translate the new entries in both.
messages: $(BIN)/kyoso
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 --no-location --sort-output \
		--project Kyoso -o server/locale/messages.pot .
	$(BIN)/pybabel update -i server/locale/messages.pot -d server/locale --ignore-obsolete --no-fuzzy-matching

# After changing scripts/build-css.mjs or updating the design tokens: rebuild server/static/tokens.css (committed).
css:
	npm ci --prefix scripts --no-audit --no-fund --loglevel=error
	node scripts/build-css.mjs

# Screenshots of the main pages, in Japanese and English at 390 and 1280 px, into var/screenshots/: the browser
# tests' journeys (tests/browser) saving every page they check. Needs Chromium and a Japanese font (see README).
screenshots: install tests/services/node_modules/.installed
	rm -rf var/screenshots
	KYOSO_SCREENSHOTS=$(CURDIR)/var/screenshots KYOSO_TEST_DB=sqlite $(BIN)/pytest -q tests/browser
	@echo "screenshots in var/screenshots/"

# Issue 15's table: every performance figure beside its limit and the ratio, the median of three runs
# (about half an hour on a 2-core machine; bench/table.py --help for fewer runs or fewer rows).
bench: install tests/services/node_modules/.installed
	$(BIN)/python bench/table.py --runs 3
