# Quickstart: `make demo`, then `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt/target/manifest.json
DBT_SOURCES := $(shell find dbt/models dbt/macros -type f) dbt/dbt_project.yml dbt/profiles.yml

# dbt: no usage tracking (no network here); Dagster: runs and logs under the project.
export DO_NOT_TRACK := 1
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
HOST ?= 127.0.0.1
PORT ?= 3000
# pytest-xdist workers for `make test` (one per core here)
TEST_WORKERS ?= 2

.PHONY: install manifest demo test test-fast lint e2e dev bench bench-heal clean test-spark install-spark \
	prod-up prod-down prod-status prod-reload prod-backup prod-restore test-prod

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The dbt manifest the code location loads; parsed here, never at import time.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt && ../$(BIN)/dbt parse --quiet

manifest: $(MANIFEST)

demo: $(MANIFEST)
	$(BIN)/python -m orders_platform.demo

lint: $(STAMP)
	$(BIN)/ruff check orders_platform orders_platform_tests deploy benchmarks
	$(BIN)/ruff format --check orders_platform orders_platform_tests deploy benchmarks
	mkdir -p data && ORDERS_WAREHOUSE=$(CURDIR)/data/.lint.duckdb $(BIN)/sqlfluff lint dbt/models

test: $(MANIFEST) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# The developers' inner loop: no lint, none of the `slow` end-to-end tests. CI runs `make test`.
test-fast: $(MANIFEST)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow and not browser and not spark and not postgres"

# ORDERS_ENGINE=spark: Java 17+ (scripts/install-java installs Debian's JRE when it can) and
# the `spark` extra, then the tests with pytest marker `spark` (the late-event fixture and the
# 14-day backfill on Spark local[2]). Not part of `make test`; CI runs it after.
SPARK_STAMP := $(VENV)/.installed-spark

$(SPARK_STAMP): $(STAMP)
	scripts/install-java
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	touch $(SPARK_STAMP)

install-spark: $(SPARK_STAMP)

test-spark: $(MANIFEST) $(SPARK_STAMP)
	$(BIN)/python -m pytest -m spark

# The Dagster UI in headless Chromium (Debian's package, installed here when missing);
# screenshots in e2e-artifacts/. Not part of `make test` (pytest marker `browser`).
e2e: $(MANIFEST)
	scripts/install-chromium
	$(BIN)/python -m pytest -m browser orders_platform_tests/e2e; status=$$?; \
	echo "e2e screenshots: $${E2E_ARTIFACTS:-$(CURDIR)/e2e-artifacts}"; exit $$status

# Benchmarks at real volume (docs/performance.md). Sizes from BENCH_DAYS, BENCH_EVENTS_PER_DAY,
# BENCH_HISTORY_DAYS, BENCH_REPEATS, BENCH_DIR, or flags in BENCH_ARGS (e.g. BENCH_ARGS=--keep);
# then DuckDB beside Spark at a small size (BENCH_COMPARE_DAYS, BENCH_COMPARE_EVENTS_PER_DAY,
# flags in BENCH_COMPARE_ARGS).
bench: $(MANIFEST) $(SPARK_STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.engines $(BENCH_COMPARE_ARGS)

# Late event to corrected revenue under a real `dagster dev` with the repo's dagster.yaml, on a
# small platform of its own (docs/performance.md). Sizes and scenarios from BENCH_HEAL_DAYS,
# BENCH_HEAL_EVENTS_PER_DAY, BENCH_HEAL_SCENARIOS, BENCH_HEAL_REPEATS, BENCH_HEAL_DIR, or flags
# in BENCH_HEAL_ARGS (e.g. BENCH_HEAL_ARGS="--repeats 3 --keep").
bench-heal: $(MANIFEST)
	$(BIN)/python -m benchmarks.heal_latency $(BENCH_HEAL_ARGS)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

# The Dagster UI on http://$(HOST):$(PORT) (loopback unless HOST is set).
dev: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster instance concurrency set duckdb_writer 1
	$(BIN)/dagster dev -m orders_platform.definitions -h $(HOST) -p $(PORT)

# The production deployment on this machine (docs/operations.md): PostgreSQL (Debian's package,
# scripts/install-postgres installs it when missing) holding the Dagster instance, then a code
# server, the webserver and the daemon as separate processes, all on 127.0.0.1, with logs and
# pid files under ORDERS_PROD_DIR (data/prod). Ports: ORDERS_PG_PORT (5433),
# ORDERS_CODE_SERVER_PORT (4266), ORDERS_WEBSERVER_PORT (3000).
prod-up: $(MANIFEST)
	scripts/install-postgres
	$(BIN)/python -m deploy up

# Refused while runs are in progress (they would end with the code server); FORCE=1 ends
# them and marks them failed.
prod-down: $(STAMP)
	$(BIN)/python -m deploy down $(if $(FORCE),--force)

prod-status: $(STAMP)
	$(BIN)/python -m deploy status

# After a code change or a dbt change (the manifest is re-parsed first): only the code server
# restarts; PostgreSQL, the webserver and the daemon keep running.
prod-reload: $(MANIFEST)
	$(BIN)/python -m deploy reload $(if $(FORCE),--force)

# Dagster's database (pg_dump) and the warehouse, copied while no run writes it, into
# $(ORDERS_PROD_DIR)/backups/<UTC time>/ (docs/operations.md#back-up-and-restore).
prod-backup: $(STAMP)
	$(BIN)/python -m deploy backup

# After `make prod-down`: BACKUP=data/prod/backups/<time> back in place, then the deployment up.
prod-restore: $(STAMP)
	$(BIN)/python -m deploy restore $(BACKUP)

# The late-file scenario against a deployment of its own on PostgreSQL (pytest marker
# `postgres`; not part of `make test`, CI runs it after).
test-prod: $(MANIFEST)
	scripts/install-postgres
	$(BIN)/python -m pytest -m postgres

clean:
	rm -rf $(VENV) dbt/target dbt/logs .dagster_home data/demo e2e-artifacts
