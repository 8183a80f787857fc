# haechi — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint typecheck bench bench-scale eval install system-deps clean i18n fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

## Debian packages (vpdq build, PDF fonts, Chromium for the UI tests): .ci/apt-packages.txt
system-deps:
	.ci/apt-install

$(STAMP): pyproject.toml requirements-nodeps.txt .ci/apt-packages.txt .ci/replay-viewer | $(BIN)/python
	.ci/apt-install
	$(BIN)/pip install --quiet -e '.[all,dev]'
	$(BIN)/pip install --quiet --no-deps -r requirements-nodeps.txt
	.ci/replay-viewer
	touch $(STAMP)

install: $(STAMP)

## Build a benign sample export, ingest and analyse it, verify it, serve the web UI.
demo: $(STAMP)
	$(BIN)/haechi demo --home demo-data --serve

## Lint (ruff), type-check (mypy) and run the whole test suite (PostgreSQL tests skip
## with the reason when no server runs).
## TEST_WORKERS: pytest-xdist workers, each given whole test files (fixtures are per file;
## PostgreSQL tests have a schema each and its advisory locks are keyed by schema).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/ruff check src tests bench eval
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests bench eval
	$(BIN)/ruff format --check src tests bench eval
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

## Fuzzing (nightly): every parser under atheris, FUZZ_RUNS cases each (corpus, crashes and
## logs in fuzz-out/), then the web API's OpenAPI schema under schemathesis.
FUZZ_RUNS ?= 10000
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/run_fuzz.py --all --runs $(FUZZ_RUNS) --out fuzz-out
	HAECHI_SCHEMATHESIS_EXAMPLES=200 $(BIN)/python -m pytest tests/web/test_api_schemathesis.py -q

## Benchmarks: print medians and ratios against the baselines they name (BENCH=name for one).
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH)

## Scale-out at 10M messages / 1M media / 10M hashes and faces on PostgreSQL, Ray 1-2-4
## workers (hours; HAECHI_TEST_PG_URL names the server): docs/benchmarks.md, "Scale-out".
bench-scale: $(STAMP)
	$(BIN)/python bench/bench_pg_ingest.py --messages 10000000 --repeat 1
	$(BIN)/python bench/bench_pg_web.py --messages 10000000 --media 1000000 --keep
	$(BIN)/python bench/bench_pg_index.py --items 10000000
	$(BIN)/python bench/bench_ray.py --files 200

## Accuracy evaluations over ../shared/data; writes docs/accuracy.md (EVAL=name for one).
eval: $(STAMP)
	$(BIN)/python eval/run_all.py $(EVAL)

## Message catalogues of the command line, the package README and the services' refusals:
## extract the marked messages (_, N_ and t_) into src/haechi/i18n/haechi.pot and merge
## them into each language's .po.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k t_ --no-location --sort-output --project haechi \
	  --copyright-holder "haechi developers" -o src/haechi/i18n/haechi.pot src/haechi
	$(BIN)/pybabel update -i src/haechi/i18n/haechi.pot -d src/haechi/i18n/locale -D haechi \
	  --no-fuzzy-matching --ignore-obsolete -w 100

clean:
	rm -rf $(VENV) demo-data bench/out .pytest_cache .mypy_cache .ruff_cache
