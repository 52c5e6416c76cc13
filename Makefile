# Gardien: `make run` serves the service locally, `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# Debian packages the test suite needs (PostgreSQL for storage tests, WordPress stack for
# the plugin, Chromium for pages, npm for axe-core, wrk for benchmarks, strace for the order
# of a commit's sync and its answer, redis-server for limits shared by app servers, nginx,
# systemd-analyze and restic for deploy/). A nodejs package that bundles npm (NodeSource's)
# stands for the npm package.
TEST_PACKAGES := postgresql wrk php-cli php-mysql php-curl php-xml php-mbstring php-zip \
	mariadb-server wordpress phpunit php-codesniffer chromium gettext nodejs npm faketime strace \
	redis-server nginx systemd restic
# axe-core for the dashboard's browser tests, exactly as package-lock.json pins it.
BROWSER_TESTS := tests/dashboard/browser
AXE := $(BROWSER_TESTS)/node_modules/.package-lock.json

PYTEST_ARGS ?=

.PHONY: run test lint lint-wp dist bench soak openapi translations system-packages clean

## Make the virtualenv (installing Debian's venv module first when root and missing).
$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  else echo "python3-venv is missing: apt-get install python3-venv" >&2; exit 1; fi; }
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

system-packages:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || \
	  { [ $$p = npm ] && command -v npm >/dev/null; } || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing Debian packages (run as root, or install them):" $$missing >&2; exit 1; fi; \
	fi

## Serve the service on 127.0.0.1:8000 with SQLite and generated secrets in instance/.
run: $(INSTALLED)
	umask 077 && $(BIN)/python -m webhook_app.instance && \
	  $(BIN)/flask --app webhook_app db upgrade && \
	  $(BIN)/flask --app webhook_app managers setup-link && \
	  exec $(BIN)/gunicorn -c deploy/gunicorn.conf.py

## axe-core from the npm registry, checked against the lock's integrity hashes; again
## whenever the lock changes.
$(AXE): $(BROWSER_TESTS)/package-lock.json $(BROWSER_TESTS)/package.json | system-packages
	npm ci --prefix $(BROWSER_TESTS) --ignore-scripts --no-audit --no-fund
	touch $@

## Install what is missing, lint, and run every suite (exit non-zero on any failure).
## Two pytest workers, one per core; each test file stays on one worker (its servers and
## module fixtures are started once). PYTEST_ARGS="-p no:xdist" runs it in one process.
test: system-packages $(INSTALLED) $(AXE) lint
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## ruff and mypy (webhook_app/, configured in pyproject.toml) for Python; php -l, phpcs
## (PSR-12, wp-plugin/phpcs.xml) and the plugin-review sniffs (lint-wp) for the plugin.
## .pre-commit-config.yaml runs the same but the plugin-review sniffs.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/mypy
	@errors=$$(find wp-plugin tests/wordpress/php -name '*.php' -not -path 'wp-plugin/vendor/*' \
	  -exec php -l {} \; 2>&1 | grep -v '^No syntax errors'); \
	  if [ -n "$$errors" ]; then echo "$$errors"; exit 1; fi
	phpcs -q --standard=wp-plugin/phpcs.xml wp-plugin
	@$(MAKE) --no-print-directory lint-wp

## The WordPress Coding Standards sniffs of the plugin directory's review (security, SQL,
## translations; wp-plugin/.phpcs-wp.xml) over the whole plugin. phpcs with WPCS comes from
## wp-plugin's Composer dev tools (cd wp-plugin && composer install) when installed, else
## from the unpacked copy next to the repository (../shared/tools/phpcs-wp).
PHPCS_WP ?= wp-plugin/vendor/bin/phpcs ../shared/tools/phpcs-wp/phpcs
lint-wp:
	@phpcs=; for candidate in $(PHPCS_WP); do \
	  if [ -x "$$candidate" ]; then phpcs=$$candidate; break; fi; done; \
	if [ -z "$$phpcs" ]; then \
	  echo "make lint: no phpcs with the WordPress Coding Standards; looked for: $(PHPCS_WP)." >&2; \
	  echo "Install them with: cd wp-plugin && composer install" >&2; \
	  exit 1; \
	fi; \
	echo "$$phpcs --standard=wp-plugin/.phpcs-wp.xml wp-plugin"; \
	"$$phpcs" --standard=wp-plugin/.phpcs-wp.xml wp-plugin

## The installable plugin: dist/gardien-<version>.zip, one gardien/ folder without what
## wp-plugin/.distignore lists (tests, development tools).
dist:
	$(PYTHON) scripts/plugin_dist.py

## Rewrite schemas/ from the marshmallow schemas.
openapi: $(INSTALLED)
	$(BIN)/python -m webhook_app.openapi

## Extract the dashboard's strings, merge them into the French catalogue, compile it.
translations: $(INSTALLED)
	$(BIN)/python scripts/translations.py

## Break each promise of docs/PROMISES.md on purpose, one at a time, and check that its tests
## fail (scripts/mutations.toml; slow, so not in `make test`). MUTATE_ARGS=--python-only etc.
.PHONY: mutate
mutate: $(INSTALLED)
	$(BIN)/python scripts/mutate.py $(MUTATE_ARGS)

## Benchmarks (not tests): prints a table.
bench: system-packages $(INSTALLED)
	$(BIN)/python -m bench

## The long part of the reliability suite: the tests that break things on purpose, with
## bigger knobs (README.md, "Tests that break things on purpose").
SOAK := GARDIEN_FUZZ_EXAMPLES=500 GARDIEN_CRASH_ROUNDS=5 GARDIEN_OUTAGE_ROUNDS=4 \
	GARDIEN_PURGE_OLD=1000 GARDIEN_PURGE_LOAD_SECONDS=10
soak: system-packages $(INSTALLED)
	$(SOAK) $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) tests/test_fuzz.py \
	  tests/test_crash_safety.py tests/test_storage_outage.py tests/test_scale_out.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-output $(BROWSER_TESTS)/node_modules
