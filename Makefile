# Every target sets itself up: a fresh clone needs only python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test test-fast lint typecheck pytest demo sandbox bench bench-sandbox clean container lock \
	schema chromium browser-test screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check cleaner tests bench docs
	$(BIN)/ruff format --check cleaner tests bench docs
	$(BIN)/hadolint Dockerfile
	$(BIN)/lint-imports  # the layering: pyproject.toml's [tool.importlinter] contracts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) chromium
	$(BIN)/pytest -q

# Debian's chromium for the browser tests, installed with apt-get when missing (root;
# see .ci/install-chromium). Playwright drives it and never downloads a browser.
chromium:
	bash .ci/install-chromium

# The browser tests alone: headless Chromium opens the HTML report and serve's index.
browser-test: $(STAMP) chromium
	$(BIN)/pytest -q -m browser

# The pictures in docs/html-report.md, taken by the browser tests.
screenshots: $(STAMP) chromium
	ECR_CLEANER_SCREENSHOTS=docs/images $(BIN)/pytest -q -m browser

test: lint typecheck pytest

# cleaner/policy.schema.json, written from the declarations the loader validates with
# (the Shapes in cleaner/config, the in-use source kinds in cleaner/inuse/kinds). Run it
# after adding or changing a key; a test fails while the shipped file is stale.
schema: $(STAMP)
	$(BIN)/python -m cleaner.config.schema --write

# The inner loop: every test but those marked slow (property tests at full size, the
# benchmarks' smoke runs, subprocesses stopped by signals, anything over about a
# second, starting a fresh Python): 1822 of 1896 tests in 35 s here (2 quiet cores;
# about 29 s of CPU, so more on a busier machine). `make test` still runs everything.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

demo: $(STAMP)
	$(BIN)/ecr-cleaner demo

sandbox: $(STAMP)
	$(BIN)/ecr-cleaner sandbox --seed demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# Builds the image with buildah (installed with apt-get if missing; needs root) on a
# Debian base made locally with debootstrap, then runs it. See .ci/container-check.
container: $(STAMP)
	bash .ci/container-check

# Every benchmark at full size (about 4.5 minutes here, the million images included);
# results in bench/results/*.json and SUMMARY.md.
bench: $(STAMP)
	$(BIN)/python -m bench.run_all

bench-sandbox: $(STAMP)
	$(BIN)/python -m bench.sandbox_scale 100000

# requirements/runtime.txt: every runtime dependency, transitive ones too, pinned with
# the sha256 of each of its files; the Dockerfile installs exactly that. `make lock`
# re-resolves pyproject.toml's dependencies to the newest versions it allows (review
# the diff); `make lock LOCK_UPGRADE=` keeps the current pins where they still fit,
# to add or drop one dependency without moving the others. Run it with the Python
# minor version of the image (3.11), which the file's header records.
# Extras the image carries go in LOCK_EXTRAS (space-separated): their dependencies are
# then locked too and the image gets them. Never `dev` or `sandbox`.
LOCK_EXTRAS  := kubernetes
LOCK_UPGRADE := --upgrade
lock: $(STAMP)
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet $(LOCK_UPGRADE) \
		--generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
		$(addprefix --extra=,$(LOCK_EXTRAS)) \
		--output-file requirements/runtime.txt pyproject.toml
