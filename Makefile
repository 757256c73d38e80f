# The commands people type. Everything runs from a virtualenv in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A CPU build of torch, installed before the project so that no dependency pulls a CUDA build.
TORCH := torch==2.13.0

.PHONY: install test check render demo lint bench clean

$(BIN)/hpo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/hpo

# The linters first: a change that fails them fails CI before minutes of tests.
test: lint
	$(BIN)/python -m pytest

check: install
	$(BIN)/hpo check

render: install
	$(BIN)/hpo render

demo: install
	$(BIN)/python -m local_runner.demo_inputs
	$(BIN)/hpo tune --local experiments/minilm-imdb-demo

# The hooks a commit runs (.pre-commit-config.yaml), on every file git tracks: hpo check and
# hpo render --check, ruff, GitHub's workflow schema, zizmor's offline audit, Renovate's schema.
# One list for both, so a commit's checks and CI's cannot drift. Needs a git checkout.
lint: install
	$(BIN)/pre-commit run --all-files

bench: install
	$(BIN)/python benchmarks/render_definitions.py

clean:
	rm -rf $(VENV) .hpo .pytest_cache
