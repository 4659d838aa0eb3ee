# PartnerHub: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
SERVICES := $(PY) -m partnerhub.devservices exec --

.PHONY: install run test lint typecheck pytest e2e-browser migrate demo stop clean bench load

$(STAMP): pyproject.toml package.json package-lock.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/npm ci --no-audit --no-fund --loglevel=error
	@touch $(STAMP)

install: $(STAMP)

## run: embedded PostgreSQL + Redis (unless DATABASE_URL/REDIS_URL), migrate, demo data, web + worker + beat
run: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(SERVICES) $(PY) -m partnerhub.devrun

migrate: install
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(SERVICES) $(PY) manage.py migrate --database=owner

demo: migrate
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(SERVICES) $(PY) manage.py load_demo

## test: lint, types, then the whole suite against real PostgreSQL and Redis (and Chromium),
## in parallel: PYTEST_WORKERS pytest-xdist workers (auto: one per core, at most 8; 0: serial)
PYTEST_WORKERS ?= auto
PYTEST := DJANGO_DEBUG=1 PARTNERHUB_REDIS_DB=1 $(SERVICES) $(BIN)/pytest

test: install lint typecheck e2e-browser
	$(PYTEST) -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	DJANGO_DEBUG=1 DATABASE_URL=postgres://unused/unused REDIS_URL=redis://unused $(BIN)/mypy partnerhub partners kpis settlements

e2e-browser:
	@bash scripts/ensure-chromium.sh

## pytest: part of the suite, in one process unless PYTEST_ARGS has -n
pytest: install
	$(PYTEST) $(PYTEST_ARGS)

stop:
	-$(PY) -m partnerhub.devservices stop

clean: stop
	rm -rf .data staticfiles

## bench: ingestion vs COPY, settlement vs GROUP BY, KPI drift vs SELECT (ROWS=1000000 by default)
ROWS ?= 1000000
bench: install
	DJANGO_DEBUG=1 $(SERVICES) $(PY) -m bench.ingest_bench --rows $(ROWS)
	DJANGO_DEBUG=1 $(SERVICES) $(PY) -m bench.settle_bench --rows $(ROWS)
	DJANGO_DEBUG=1 $(SERVICES) $(PY) -m bench.drift_bench

## load: gunicorn + worker on the demo enlarged to PARTNERS partners and ROWS usage rows (10,000
## and 10,000,000 unless given), locust with USERS users for WARMUP s unmeasured, then
## DURATION s measured; writes bench/load.json
LOAD_STAMP := $(VENV)/.installed-load
PARTNERS ?= 10000
USERS ?= 20
DURATION ?= 60
WARMUP ?= 15
LOAD_ROWS := $(if $(filter file,$(origin ROWS)),10000000,$(ROWS))

$(LOAD_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,load]'
	@touch $(LOAD_STAMP)

load: install $(LOAD_STAMP)
	$(SERVICES) $(PY) -m bench.load.run --partners $(PARTNERS) --rows $(LOAD_ROWS) \
		--users $(USERS) --duration $(DURATION) --warmup $(WARMUP) $(if $(FRESH),--fresh,)
