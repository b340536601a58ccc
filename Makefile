# The two quick-start commands: `make demo` and `make test`. Both install uv if it is
# missing and sync the workspace first.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: demo test lint sync uv bench docs dist

uv:
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || $(PYTHON) -m pip install --user --quiet uv || $(PYTHON) -m pip install --quiet uv

sync: uv
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); $$UV sync --all-packages --frozen --quiet

demo: sync
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); $$UV run --frozen python examples/demo.py

test: sync
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); $$UV run --frozen pytest

lint: sync
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); $$UV run --frozen ruff check . && $$UV run --frozen ruff format --check . && $$UV run --frozen lint-imports

docs: sync
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); $$UV run --frozen mkdocs build --strict

# The three wheels (and sdists) in dist/: tunelab, tunelab-sklearn, tunelab-keras.
dist: uv
	@UV=$$(command -v uv || echo $(HOME)/.local/bin/uv); $$UV build --all-packages --out-dir dist
