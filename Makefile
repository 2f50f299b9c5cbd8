# Tradelane developer entry points. Everything runs from a fresh clone with only Python 3.11
# and make: `make demo` and `make test` install what they need into .venv first.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
VAR := $(CURDIR)/var
PIDS := $(VAR)/pids
LOGS := $(VAR)/log
SANDBOX_PORT ?= 8765
DAGSTER_PORT ?= 3000
STREAMLIT_PORT ?= 8501

export DAGSTER_HOME ?= $(VAR)/dagster
export DLT_DATA_DIR ?= $(VAR)/dlt
export RUNTIME__DLTHUB_TELEMETRY := false
export LOAD__DELETE_COMPLETED_JOBS := true
export TRADELANE_SANDBOX_URL ?= http://127.0.0.1:$(SANDBOX_PORT)

# The demo's sandbox serves Shopify on the Plus plan (a 400-request bucket draining at 20/s,
# ten times the standard plan) and the connector is given the same limit, so Shopify's finance
# tables, read per order, load in seconds. `make demo SHOPIFY_PLAN=standard` shows the slow path.
SHOPIFY_PLAN ?= plus
SHOPIFY_RATE_standard := 2
SHOPIFY_BURST_standard := 40
SHOPIFY_RATE_plus := 20
SHOPIFY_BURST_plus := 400
demo: export SOURCES__SHOPIFY__FINANCE ?= true
demo: export SOURCES__SHOPIFY__REQUESTS_PER_SECOND ?= $(SHOPIFY_RATE_$(SHOPIFY_PLAN))
demo: export SOURCES__SHOPIFY__BURST ?= $(SHOPIFY_BURST_$(SHOPIFY_PLAN))

# Poll a URL until it answers (no curl needed on a fresh machine).
wait_for = $(BIN)/python -c "import sys,time,urllib.request as u;\
end=time.time()+$(2);\
exec('while True:\n try:\n  u.urlopen(\"$(1)\",timeout=2); break\n except Exception:\n  time.sleep(0.5)\n  (time.time()>end) and sys.exit(\"timed out waiting for $(1)\")')"

.PHONY: help setup demo stop test lint bench clean

help:
	@echo "make demo   set up, generate the sandbox, run the pipeline, serve Dagster and the dashboards"
	@echo "make stop   stop what make demo started"
	@echo "make test   run the test suite"
	@echo "make lint   ruff check and format check"
	@echo "make bench  sandbox generation and serving, ingestion throughput, GE boundary, dbt build at 1M orders -> benchmarks/results/"
	@echo "make clean  remove var/ (warehouse, published copies, run history)"

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

setup: $(VENV)/.installed
	@mkdir -p $(PIDS) $(LOGS) $(DAGSTER_HOME)
	@cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pipelines.defs.dbt.project

demo: setup stop
	@echo "==> starting the sandbox on 127.0.0.1:$(SANDBOX_PORT) (Shopify $(SHOPIFY_PLAN) plan)"
	@set -m; $(BIN)/tradelane sandbox serve --port $(SANDBOX_PORT) --shopify-plan $(SHOPIFY_PLAN) > $(LOGS)/sandbox.log 2>&1 & echo $$! > $(PIDS)/sandbox.pid
	@$(call wait_for,http://127.0.0.1:$(SANDBOX_PORT)/_sandbox/clock,120)
	@echo "==> running the pipeline"
	@start=$$(date +%s); $(BIN)/tradelane run; echo "pipeline took $$(( $$(date +%s) - start )) s"
	@echo "==> starting the Dagster UI and the dashboards"
	@set -m; $(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p $(DAGSTER_PORT) > $(LOGS)/dagster.log 2>&1 & echo $$! > $(PIDS)/dagster.pid
	@set -m; $(BIN)/streamlit run dashboards/app.py --server.address 127.0.0.1 --server.port $(STREAMLIT_PORT) --server.headless true > $(LOGS)/streamlit.log 2>&1 & echo $$! > $(PIDS)/streamlit.pid
	@$(call wait_for,http://127.0.0.1:$(STREAMLIT_PORT)/_stcore/health,120)
	@$(call wait_for,http://127.0.0.1:$(DAGSTER_PORT)/server_info,180)
	@echo ""
	@echo "Tradelane is running:"
	@echo "  Dashboards   http://127.0.0.1:$(STREAMLIT_PORT)"
	@echo "  Dagster UI   http://127.0.0.1:$(DAGSTER_PORT)"
	@echo "  Sandbox API  http://127.0.0.1:$(SANDBOX_PORT)"
	@echo "  Warehouse    var/warehouse.duckdb (read-only copy for SQL: var/published/)"
	@echo "Logs in var/log/. Stop everything with: make stop"

# Stop what `make demo` started: each was started as its own process group (set -m), so the
# group id is the recorded PID and `kill -- -PID` ends it with its children.
stop:
	@for name in streamlit dagster sandbox; do \
		pidfile=$(PIDS)/$$name.pid; \
		if [ -f $$pidfile ]; then \
			pid=$$(cat $$pidfile); \
			if kill -0 $$pid 2>/dev/null; then \
				echo "stopping $$name (pid $$pid)"; \
				kill -TERM -- -$$pid 2>/dev/null || kill -TERM $$pid 2>/dev/null || true; \
				for i in $$(seq 1 50); do kill -0 $$pid 2>/dev/null || break; sleep 0.2; done; \
				kill -0 $$pid 2>/dev/null && { kill -KILL -- -$$pid 2>/dev/null || kill -KILL $$pid 2>/dev/null || true; }; \
			fi; \
			rm -f $$pidfile; \
		fi; \
	done

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Long measurements that do not belong in the test suite (see benchmarks/README.md).
bench: setup
	$(BIN)/python -m benchmarks.sandbox
	$(BIN)/python -m benchmarks.throughput
	$(BIN)/python -m benchmarks.boundary
	$(BIN)/python -m benchmarks.dbt_build

clean: stop
	rm -rf var dbt_project/target dbt_project/logs
