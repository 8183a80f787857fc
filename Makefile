# haechi — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint typecheck bench eval install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Build a benign sample export, ingest it into ./demo-data, verify it.
demo: $(STAMP)
	$(BIN)/haechi demo --home demo-data

## Lint (ruff) and run the whole test suite (PostgreSQL tests skip if no server runs).
test: $(STAMP)
	$(BIN)/ruff check src tests bench eval
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench eval
	$(BIN)/ruff format --check src tests bench eval
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

## Benchmarks: print medians and ratios against the baselines they name.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## Accuracy evaluations over ../shared/data; writes docs/accuracy.md.
eval: $(STAMP)
	$(BIN)/python eval/run_all.py

clean:
	rm -rf $(VENV) demo-data bench/out .pytest_cache .mypy_cache .ruff_cache
