# The README's commands. Each target creates .venv on first use and installs the extras it needs: the core
# package alone (numpy, PyYAML, Pillow) only generates, loads and exports data; see pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= paper
# each profile its own folder: runs/paper, runs/quick
OUT ?= runs/$(PROFILE)
# jobs at a time: on 2 cores two workers add no matmul throughput but overlap each other's host work
# (batch plans, checkpoints, evaluation); the committed paper runs used 2 (docs/scaling.md)
JOBS ?= 2

.PHONY: reproduce matrix timings test test-fast lint docs bench clean

$(BIN)/multimnist: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@

$(VENV)/.dev: $(BIN)/multimnist
	$(BIN)/pip install --quiet -e '.[all,dev]'
	touch $@

reproduce: $(BIN)/multimnist
	$(BIN)/multimnist reproduce --profile $(PROFILE) --out $(OUT) --jobs $(JOBS)

# every claim in every regime: the paper profile on the three presets, each digested into docs/results/runs/ (the
# files `report --across` reads, small enough to commit; scripts/digest_run.py), then the matrix from the digests
# (each run takes hours on 2 cores, the study preset about 4 with seeds until decided: a finished run's digest can
# be committed on its own, and a preset whose digest is already there is not run again: delete
# docs/results/runs/PRESET to redo it), committed as
# docs/results/across.json and rendered into the README and docs/results.md (make test fails if they disagree)
MATRIX := study faint few-source-digits
matrix: $(BIN)/multimnist
	for preset in $(MATRIX); do \
		if [ -f docs/results/runs/$$preset/results.json ]; then \
			echo "matrix: $$preset already digested in docs/results/runs/$$preset"; continue; fi; \
		$(BIN)/multimnist reproduce --profile paper --preset $$preset --out runs/paper-$$preset --jobs $(JOBS) && \
		$(BIN)/python scripts/digest_run.py runs/paper-$$preset docs/results/runs/$$preset || exit 1; \
	done
	$(BIN)/multimnist report --across $(addprefix docs/results/runs/,$(MATRIX)) --out runs/across
	cp runs/across/across.json runs/across/regime_curves.png runs/across/regime_gain.png docs/results/
	$(MAKE) timings

# the README's timings table: docs/results/timings.json (medians of the committed digests' steps.json, and of runs
# recorded with `python benchmarks/timings.py --add RUN`), then every generated block of README.md and docs/results.md
timings: $(BIN)/multimnist
	$(BIN)/python benchmarks/timings.py
	$(BIN)/python -m multimnist.report.readme docs/results/runs/study/results.json README.md docs/results.md \
		--across docs/results/across.json --timings docs/results/timings.json

test: $(VENV)/.dev
	$(BIN)/ruff check src tests scripts benchmarks docs
	$(BIN)/python -m pytest
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# the inner loop: everything but the tests marked slow (end-to-end trainings, Ray, the whole pipeline, a fresh
# venv, tests whose subject is a fresh Python process), in two pytest-xdist workers, with XLA's compiled programs kept
# on disk between runs (most of a run is compiling the tests' tiny networks) and Python's bytecode too, even where
# the environment sets PYTHONDONTWRITEBYTECODE (importing the suite then recompiles ~1,000 files, ~3 s a worker)
test-fast: $(VENV)/.dev
	$(BIN)/ruff check src tests scripts benchmarks docs
	PYTHONDONTWRITEBYTECODE= JAX_COMPILATION_CACHE_DIR=$(VENV)/xla-cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
		JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0 $(BIN)/python -m pytest -m 'not slow' -n 2

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests scripts benchmarks docs

# the documentation site (mkdocs.yml) into site/: open site/index.html, or `$(BIN)/mkdocs serve` while writing
docs: $(VENV)/.dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(BIN)/multimnist
	$(BIN)/python benchmarks/bench_generate.py
	$(BIN)/python benchmarks/bench_pack.py
	$(BIN)/python benchmarks/bound_matmuls.py
	if [ -f runs/paper/steps.json ]; then $(BIN)/python benchmarks/profile_floor.py runs/paper; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache site
