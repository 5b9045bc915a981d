# The verbs: make demo | make test | make lint | make bench. CI calls the same ones.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PYTEST_ARGS ?=

.PHONY: demo test lint bench install install-dev messages clean-demo browser-deps

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Tend needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Exact versions CI uses are pinned in requirements.lock (pip constraints).
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(PIP) install -q -c requirements.lock -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements.lock $(VENV)/.installed
	$(PIP) install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Set up a populated demo on SQLite (./var or $$TEND_DATA_DIR) and serve it with a worker.
demo: install
	TEND_EMAIL_URL="$${TEND_EMAIL_URL:-file:sent-mail}" $(BIN)/tend demo

## Browser tests drive Debian's Chromium (Playwright cannot download one here) and need a
## CJK font for the Chinese screenshots.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  echo "installing chromium and fonts-noto-cjk with apt-get"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >/dev/null; } \
	  || { echo "could not install chromium + fonts-noto-cjk; install them, then rerun" >&2; exit 1; }; \
	fi

## The whole suite: unit, HTTP, CLI, worker and browser tests. TEND_DATABASE_URL picks the DB.
test: install-dev browser-deps
	$(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check tend bench
	$(BIN)/ruff format --check tend bench
	$(BIN)/mypy tend

## Benchmarks (long: they build 100,000-customer data sets). Each prints its results; record
## them with date, machine and command in docs/benchmarks.md (some scripts update their section).
bench: install-dev
	$(BIN)/python bench/demo_data.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/tracking.py
	$(BIN)/python bench/imports.py --db both --events 1000000 --large-events 3000000 --customers 10000
	$(BIN)/python bench/subscription_import.py --db both --rows 50000
	$(BIN)/python bench/daily.py --db both --customers 100000 --events-per-customer 100
	$(BIN)/python bench/today.py --db both --customers 100000 --requests 300
	$(BIN)/python bench/segments.py
	$(BIN)/python bench/clv_app.py --db both --customers 100000
	$(BIN)/python bench/filters.py
	$(BIN)/python bench/playbooks.py --db both --customers 100000 --runs 10000 --emails 5000
	$(BIN)/python bench/partitions.py --rounds 2
	$(BIN)/python bench/observability_middleware.py --multiproc
	$(PIP) install -q -c requirements.lock -e '.[bench]'
	$(BIN)/python bench/clv_fit.py
	$(BIN)/python bench/lifetime_fit.py --db sqlite --customers 100000
	$(BIN)/python bench/lifetime_fit.py --db postgres --customers 100000
	$(BIN)/python bench/churn_training.py --db both --customers 100000 --events-per-customer 50
	OMP_NUM_THREADS=1 $(BIN)/python bench/churn_fit.py --customers 100000 --dates 12

## Refresh the translation catalogs after changing strings, then compile them.
messages: install-dev
	cd tend && ../$(BIN)/tend makemessages -l zh_Hans --no-obsolete --ignore 'tests/*'
	cd tend && ../$(BIN)/tend compilemessages -l zh_Hans

clean-demo:
	rm -rf var
