# Every target that needs the virtual environment creates it when it is missing, so a
# fresh clone needs no other step: `make sample` and `make test` are enough.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# The sample build (make sample): a synthetic mirror, built with DirectRunner.
SAMPLE_DIR ?= sample
SAMPLE_ARTICLES ?= 300
SAMPLE_SEED ?= 7

# A real build (make build / dataflow / spark / flink).
LAYOUT ?= cloud
ROOT ?= s3://pmc-oa-opendata
OUTPUT ?= build
BUILD_ARGS ?=

.PHONY: setup test lint bench sample train-sample build dataflow spark flink clean

$(STAMP): setup.py pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[all]'
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(SAMPLE_DIR) .pytest_cache build dist *.egg-info
