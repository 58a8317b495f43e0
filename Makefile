# CreditHub: `make run` serves the demo on SQLite, `make test` runs the whole suite.
# Needs only python3 and make; everything else is installed here (PostgreSQL through apt when
# the machine has no server binaries, because the tests run on a real PostgreSQL too).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export CREDITHUB_INSTANCE_PATH ?= $(CURDIR)/instance
# The demo's joint punishment and reward measures (credit checks, docs/credit-checks.md).
export CREDITHUB_MEASURES_FILE ?= $(CURDIR)/sample_data/measures.toml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint imports typecheck install postgres-binaries redis-server chromium clean bench-ingest bench-matching bench-export bench-heldout bench-checks bench-api bench-names wrk

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

SIM_PORT ?= 5050
# The catalogue's court feed reads its port from this variable (${CREDITHUB_SIM_PORT:-5050}).
export CREDITHUB_SIM_PORT := $(SIM_PORT)

# Log lines as plain text for a person at a terminal; the service's own default is JSON lines
# (CREDITHUB_LOG_FORMAT, README), for a log pipeline in production.
export CREDITHUB_LOG_FORMAT ?= text

# The court feed is an HTTP API: a local simulator serves it while the service runs. A demo
# regulator token is printed so a first user can sign in to the web pages.
run: $(STAMP)
	$(BIN)/credithub db upgrade
	$(BIN)/credithub catalogue sync sample_data/catalogue.toml
	@$(BIN)/credithub sample serve-feed --port $(SIM_PORT) & sim=$$!; \
	trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	$(BIN)/credithub ingest run --all --quiet || echo "some feeds failed: see the table above"; \
	echo; echo "Web pages: http://$(HOST):$(PORT)/  sign in with this demo regulator token"; \
	echo "(kept in $(CREDITHUB_INSTANCE_PATH)/demo-token.txt; more: credithub clients create --help):"; \
	$(BIN)/credithub clients demo-token; echo; \
	$(BIN)/credithub serve --host $(HOST) --port $(PORT) --with-scheduler

postgres-binaries:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then \
		echo "PostgreSQL server binaries present"; \
	else \
		echo "installing PostgreSQL server (Debian package postgresql)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; \
	fi

# The shared rate-limit store is tested against a real Redis (CREDITHUB_REDIS_URL in production);
# the suite starts its own server from this binary, as it does PostgreSQL.
redis-server:
	@if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then \
		echo "Redis server present"; \
	else \
		echo "installing Redis (Debian package redis-server)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			redis-server >/dev/null; \
	fi

# The browser tests drive a real headless Chromium (Debian's package, not Playwright's download);
# a small CJK font makes the Chinese labels in their screenshots readable.
CHROMIUM ?= /usr/bin/chromium
CJK_FONT ?= /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
chromium:
	@if [ -x $(CHROMIUM) ] && [ -e $(CJK_FONT) ]; then \
		echo "Chromium and a CJK font present"; \
	else \
		echo "installing Chromium and a CJK font (Debian packages chromium, fonts-wqy-microhei)"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
			chromium fonts-wqy-microhei >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

# The layering contracts in pyproject.toml ([tool.importlinter]; docs/architecture.md).
imports: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) postgres-binaries redis-server chromium lint imports typecheck
	CREDITHUB_TEST_REQUIRE_POSTGRES=1 CREDITHUB_TEST_REQUIRE_REDIS=1 CREDITHUB_TEST_REQUIRE_BROWSER=1 \
		$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(BENCH_VENV) instance .pytest_cache .mypy_cache .ruff_cache

ROWS ?= 1000000
# On SQLite and on a PostgreSQL server the benchmark starts itself (INGEST_BACKEND=sqlite,
# postgresql or both), each with two feeds at once in two processes against one.
# INGEST_FLAGS=--outbox-cost also measures the run without the outbox hooks (issue 16);
# --profile prints the time by stage; --no-parallel skips the two-feed run.
INGEST_BACKEND ?= both
INGEST_FLAGS ?=
bench-ingest: $(STAMP) postgres-binaries
	$(BIN)/python -m benchmarks.ingest --rows $(ROWS) --backend $(INGEST_BACKEND) $(INGEST_FLAGS)

bench-export: $(STAMP)
	$(BIN)/python -m benchmarks.export --rows $(ROWS)

# The API benchmark drives the server with Debian's wrk.
wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends wrk >/dev/null; }

ENTITIES ?= 1000000
SECONDS_EACH ?= 15
# API_DATA=DIR keeps the built databases there and serves them again on the next run (after
# `credithub db upgrade`): the 1M build is paid once. Without it they are thrown away.
API_DATA ?=
bench-api: $(STAMP) postgres-binaries wrk
	$(BIN)/python -m benchmarks.api --entities $(ENTITIES) --seconds $(SECONDS_EACH) \
		$(if $(API_DATA),--out $(API_DATA) --reuse)

# Name search in one process against the USCC search (docs/serving.md).
NAME_ENTITIES ?= 300000
bench-names: $(STAMP) postgres-binaries
	$(BIN)/python -m benchmarks.name_search --entities $(NAME_ENTITIES)

# Splink and recordlinkage hold pandas below 3, so the matching benchmark has its own venv.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $@

SIZES ?= 20000,1000000
# The machine is shared: each system runs REPEAT times on the small datasets, the fastest
# run counts (the 1M run is done once).
REPEAT ?= 3
bench-matching: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python -m benchmarks.matching --sizes $(SIZES) --repeat $(REPEAT)

# The independent held-out generator (benchmarks/heldout, written without reading the matcher):
# never tuned on; scores `credithub resolve` on it.
HELDOUT_RECORDS ?= 20000
HELDOUT_SEED ?= 1
bench-heldout: $(STAMP)
	$(BIN)/python -m benchmarks.heldout --records $(HELDOUT_RECORDS) --seed $(HELDOUT_SEED)

# Batch credit checks against profile look-ups, and webhook delivery lag (benchmarks/credit_checks.py).
CHECKS ?= 10000
bench-checks: $(STAMP)
	$(BIN)/python -m benchmarks.credit_checks --identifiers $(CHECKS)
