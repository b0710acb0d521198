# benzokit — the two commands of the README, and the checks CI runs.
# Everything installs into ./.venv from the package registries; nothing is assumed on the machine
# beyond python3 (>= 3.11) and make.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.benzokit-installed

.PHONY: demo cli-demo test test-fast lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dist]'
	touch $(STAMP)

## demo: set up and run the main job: the demo clinic (benzokit serve on SQLite with demo data)
demo: $(STAMP)
	$(BIN)/benzokit serve

## cli-demo: simulate a clonazepam 2 mg/day patient and plan a taper, with plots and documents
cli-demo: $(STAMP)
	$(BIN)/benzokit demo --out demo-output

## test: set up and run the whole suite: ruff, mypy, pytest
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

## test-fast: the pure unit tests only (under a minute): no CLI, service, browser, Dask, PostgreSQL or slow tests
FAST_TESTS = not (slow or e2e or postgres or dask or browser)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "$(FAST_TESTS)"

## bench: the benchmarks (figures and ratios printed; not part of the test suite). The load
## benchmark needs PostgreSQL (source .ci/services.sh; PG_DURABLE=1 start_postgres) and takes about 3 minutes
bench: $(STAMP)
	$(BIN)/python benchmarks/pk_engine.py
	$(BIN)/python benchmarks/population.py
	$(BIN)/python benchmarks/service.py
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache demo-output test-artifacts
