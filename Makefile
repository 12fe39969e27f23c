# The two commands of the README: `make dev` runs Wosool, `make test` runs every test.
# Both create the virtualenv in .venv and install Wosool into it when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= $(or $(WOSOOL_CHROMIUM),/usr/bin/chromium)

.PHONY: dev test lint pytest browser bench clean

dev: $(VENV)/.installed
	$(BIN)/wosool dev

test: lint pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Two workers (pytest-xdist): most of a test's time is PostgreSQL creating its databases, which overlaps well.
PYTEST_WORKERS ?= 2

pytest: $(VENV)/.installed browser
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist load

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Wosool needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The browser tests drive the system Chromium (Playwright's own browser download is not used).
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium for the browser tests (apt-get install chromium) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "WARNING: no Chromium at $(CHROMIUM); browser tests will be SKIPPED. Install chromium or set WOSOOL_CHROMIUM."; \
	fi

bench: $(VENV)/.installed
	$(BIN)/python -m bench.startup

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-artifacts
