# Every target sets itself up: a fresh clone needs only python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint typecheck pytest demo sandbox bench bench-sandbox clean container

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check cleaner tests bench docs
	$(BIN)/ruff format --check cleaner tests bench docs
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

demo: $(STAMP)
	$(BIN)/ecr-cleaner demo

sandbox: $(STAMP)
	$(BIN)/ecr-cleaner sandbox --seed demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Builds the image with buildah (installed with apt-get if missing; needs root) on a
# Debian base made locally with debootstrap, then runs it. See .ci/container-check.
container: $(STAMP)
	bash .ci/container-check

# All four benchmarks at full size (about 5 minutes here); results in bench/results/.
bench: $(STAMP)
	$(BIN)/python -m bench.run_all

bench-sandbox: $(STAMP)
	$(BIN)/python -m bench.sandbox_scale 100000
