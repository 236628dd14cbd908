# mockinterview: `make demo` runs a complete offline interview; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test faults lint bench clean

$(BIN)/mockinterview: pyproject.toml
	bash .ci/setup-system.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,voice]'
	touch $@

setup: $(BIN)/mockinterview

demo: setup
	$(BIN)/mockinterview demo

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

faults: setup
	$(BIN)/python -m tests.faults

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/turn_latency.py
	$(BIN)/python benchmarks/terms.py
	$(BIN)/python benchmarks/followup_latency.py
	$(BIN)/python benchmarks/voice.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
