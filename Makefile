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

SAMPLE_MIRROR := $(SAMPLE_DIR)/mirror
SAMPLE_OUTPUT := $(SAMPLE_DIR)/output

# A real build (make build / dataflow / spark / flink); see docs/running.md.
LAYOUT ?= cloud
ROOT ?= s3://pmc-oa-opendata
OUTPUT ?= build/pmc
BUILD_ARGS ?=
PROJECT ?=
REGION ?= us-east1
TEMP_LOCATION ?= $(OUTPUT)/tmp
MAX_WORKERS ?= 100
SPARK_MASTER ?= local[4]
FLINK_MASTER ?= localhost:8081
JOB_ENDPOINT ?=
ENVIRONMENT_TYPE ?= DOCKER
BUILD := $(PY) -m beam_jobs.build_dataset --layout $(LAYOUT) --root $(ROOT) --output $(OUTPUT)

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

# The README's main command: a synthetic mirror (no network, no credentials), built with
# Beam's DirectRunner; prints the build summary, then writes the data card and its path.
# (Validation and test splits are larger than a real build's 1% each, so that the sample's
# val/test have something to evaluate.)
$(SAMPLE_MIRROR)/.mirror-truth.json: $(STAMP)
	$(PY) -m pmc_pipeline.cli mirror $(SAMPLE_MIRROR) --layout cloud --articles $(SAMPLE_ARTICLES) --seed $(SAMPLE_SEED)

sample: $(SAMPLE_MIRROR)/.mirror-truth.json
	$(PY) -m pmc_pipeline.cli build --layout cloud --root $(SAMPLE_MIRROR) --output $(SAMPLE_OUTPUT) \
		--chunk-size 25 --shard-size 500 --split train=0.9,val=0.05,test=0.05
	$(PY) -m pmc_pipeline.cli report $(SAMPLE_OUTPUT)

# The bundled trainer: `tiny` on the sample build, a few minutes on the CPU; prints the
# train and val retrieval (recall@k) as JSON lines.
train-sample: sample
	rm -rf $(SAMPLE_DIR)/run
	$(PY) -m pmc_pipeline.cli train --data $(SAMPLE_OUTPUT) --model tiny --output $(SAMPLE_DIR)/run
	$(PY) -m pmc_pipeline.cli evaluate --run $(SAMPLE_DIR)/run --data $(SAMPLE_OUTPUT) --split train
	$(PY) -m pmc_pipeline.cli evaluate --run $(SAMPLE_DIR)/run --data $(SAMPLE_OUTPUT) --split val

# Local DirectRunner build of any root (ROOT, LAYOUT, OUTPUT; BUILD_ARGS for more options).
# In-process: Beam's local multi-worker modes drop elements on large builds (docs/running.md);
# extract still overlaps its fetches in --fetch-threads threads.
build: $(STAMP)
	$(BUILD) $(BUILD_ARGS)

# Google Cloud Dataflow: PROJECT, REGION, OUTPUT=gs://..., ships the code with setup.py.
dataflow: $(STAMP)
	@test -n "$(PROJECT)" || (echo "set PROJECT=<gcp project> (and OUTPUT=gs://bucket/path)"; exit 2)
	$(BUILD) --runner DataflowRunner --project $(PROJECT) --region $(REGION) \
		--temp_location $(TEMP_LOCATION) --setup_file ./setup.py \
		--max_num_workers $(MAX_WORKERS) --experiments use_runner_v2 $(BUILD_ARGS)

# Apache Spark through Beam's portable Spark runner (SPARK_MASTER), or an already running
# job server (JOB_ENDPOINT=host:8099).
spark: $(STAMP)
	$(BUILD) $(if $(JOB_ENDPOINT),--runner PortableRunner --job_endpoint $(JOB_ENDPOINT),--runner SparkRunner --spark_master_url $(SPARK_MASTER)) \
		--environment_type $(ENVIRONMENT_TYPE) $(BUILD_ARGS)

# Apache Flink (FLINK_MASTER), or an already running job server (JOB_ENDPOINT=host:8099).
flink: $(STAMP)
	$(BUILD) $(if $(JOB_ENDPOINT),--runner PortableRunner --job_endpoint $(JOB_ENDPOINT),--runner FlinkRunner --flink_master $(FLINK_MASTER)) \
		--environment_type $(ENVIRONMENT_TYPE) $(BUILD_ARGS)

clean:
	rm -rf $(SAMPLE_DIR) .pytest_cache build dist *.egg-info
