# Every target that needs the virtual environment creates it when it is missing and installs
# the extras it needs (and only those), so a fresh clone needs no other step: `make sample`
# and `make test` are enough, in any order, as often as you like.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# $(VENV)/.installed-<extras>: the project installed (editable) with those extras.
INSTALLED := $(VENV)/.installed-

# The sample build (make sample): a synthetic mirror, built with DirectRunner.
SAMPLE_DIR ?= sample
SAMPLE_ARTICLES ?= 300
SAMPLE_SEED ?= 7

SAMPLE_MIRROR := $(SAMPLE_DIR)/mirror
SAMPLE_OUTPUT := $(SAMPLE_DIR)/output
# Written when the mirror is complete (the mirror's own files carry a fixed date, so they
# cannot tell make whether the mirror is newer than the installed code).
SAMPLE_MIRROR_DONE := $(SAMPLE_DIR)/.mirror-done

# A real build (make build / dask / dataflow / spark / flink); see docs/running.md.
LAYOUT ?= cloud
ROOT ?= s3://pmc-oa-opendata
OUTPUT ?= build/pmc
LIMIT ?=
BUILD_ARGS ?=
RUNNER ?=
DASK_WORKERS ?=
DASK_ADDRESS ?=
PROJECT ?=
REGION ?= us-east1
TEMP_LOCATION ?= $(OUTPUT)/tmp
MAX_WORKERS ?= 100
SPARK_MASTER ?= local[4]
FLINK_MASTER ?= localhost:8081
JOB_ENDPOINT ?=
ENVIRONMENT_TYPE ?= DOCKER
BUILD := $(PY) -m beam_jobs.build_dataset --layout $(LAYOUT) --root $(ROOT) --output $(OUTPUT) \
	$(if $(LIMIT),--limit $(LIMIT))
DASK := --runner DaskRunner $(if $(DASK_ADDRESS),--dask_client_address $(DASK_ADDRESS)) \
	$(if $(DASK_WORKERS),--dask-workers $(DASK_WORKERS))

.PHONY: setup test test-fast lint typecheck bench sample train-sample build dask dataflow spark \
	flink clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(INSTALLED)%: setup.py pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[$*]'
	touch $@

setup: $(INSTALLED)all

test: $(INSTALLED)all
	$(PY) -m pytest -q

# The tests without those marked slow (builds, training runs, mirrors served with faults,
# subprocess measurements, the browser): under 2 minutes, a check while editing.
test-fast: $(INSTALLED)all
	$(PY) -m pytest -q -m "not slow"

# The gates CI runs before the tests (.ci/run), and pre-commit before a commit.
lint: $(INSTALLED)all
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy over pmc_pipeline and beam_jobs, configured in pyproject.toml ([tool.mypy]).
typecheck: $(INSTALLED)all
	$(VENV)/bin/mypy

# img2dataset, the image benchmark's peer, without its dependencies (see the bench extra in
# setup.py): only its resizer module is used.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(INSTALLED)all
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m pip install --quiet --no-deps 'img2dataset==1.47.0'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) -m bench

# The README's main command: a synthetic mirror (no network, no credentials), built with
# Beam's DirectRunner; prints the build summary, then writes the data card and its path.
# Needs only the `report` extra (no torch). (Validation and test splits are larger than a
# real build's 1% each, so that the sample's val/test have something to evaluate.)
$(SAMPLE_MIRROR_DONE): $(INSTALLED)report
	rm -rf $(SAMPLE_MIRROR) $(SAMPLE_MIRROR_DONE)
	$(PY) -m pmc_pipeline.cli mirror $(SAMPLE_MIRROR) --layout cloud --articles $(SAMPLE_ARTICLES) --seed $(SAMPLE_SEED)
	touch $@

sample: $(SAMPLE_MIRROR_DONE)
	$(PY) -m pmc_pipeline.cli build --layout cloud --root $(SAMPLE_MIRROR) --output $(SAMPLE_OUTPUT) \
		--chunk-size 25 --shard-size 500 --split train=0.9,val=0.05,test=0.05
	$(PY) -m pmc_pipeline.cli report $(SAMPLE_OUTPUT)

# The bundled trainer: `tiny` on the sample build, a few minutes on the CPU; prints the
# train and val retrieval (recall@k) as JSON lines.
train-sample: sample $(INSTALLED)all
	rm -rf $(SAMPLE_DIR)/run
	$(PY) -m pmc_pipeline.cli train --data $(SAMPLE_OUTPUT) --model tiny --output $(SAMPLE_DIR)/run
	$(PY) -m pmc_pipeline.cli evaluate --run $(SAMPLE_DIR)/run --data $(SAMPLE_OUTPUT) --split train
	$(PY) -m pmc_pipeline.cli evaluate --run $(SAMPLE_DIR)/run --data $(SAMPLE_OUTPUT) --split val

# A build of any root (ROOT, LAYOUT, OUTPUT; LIMIT=N for a trial; BUILD_ARGS for more
# options), in this process with DirectRunner, or with RUNNER=dask on a Dask cluster
# (DASK_WORKERS local processes, or DASK_ADDRESS=host:port of a running one).
build: $(INSTALLED)aws,dask,report
	@$(if $(LIMIT),,echo "make build: building every article under $(ROOT) (the full PMC root is ~124 CPU-hours); try LIMIT=1000 first")
	$(BUILD) $(if $(filter dask,$(RUNNER)),$(DASK)) $(BUILD_ARGS)

dask: $(INSTALLED)aws,dask,report
	$(BUILD) $(DASK) $(BUILD_ARGS)

# Google Cloud Dataflow: PROJECT, REGION, OUTPUT=gs://..., ships the code with setup.py.
# BUILD_ARGS=--dry_run=True translates the job offline (no credentials) without submitting.
dataflow: $(INSTALLED)gcp,report
	@test -n "$(PROJECT)" || (echo "make dataflow: set PROJECT=<gcp project> (and OUTPUT=gs://bucket/path)"; exit 2)
	@case "$(OUTPUT)" in gs://*) ;; *) echo "make dataflow: OUTPUT must be gs://bucket/path, got '$(OUTPUT)'"; exit 2;; esac
	@case "$(TEMP_LOCATION)" in gs://*) ;; *) echo "make dataflow: TEMP_LOCATION must be gs://..., got '$(TEMP_LOCATION)'"; exit 2;; esac
	$(BUILD) --runner DataflowRunner --project $(PROJECT) --region $(REGION) \
		--temp_location $(TEMP_LOCATION) --setup_file ./setup.py \
		--max_num_workers $(MAX_WORKERS) --experiments use_runner_v2 $(BUILD_ARGS)

# Apache Spark through Beam's portable Spark runner (SPARK_MASTER), or an already running
# job server (JOB_ENDPOINT=host:8099).
spark: $(INSTALLED)aws,report
	$(BUILD) $(if $(JOB_ENDPOINT),--runner PortableRunner --job_endpoint $(JOB_ENDPOINT),--runner SparkRunner --spark_master_url $(SPARK_MASTER)) \
		--environment_type $(ENVIRONMENT_TYPE) $(BUILD_ARGS)

# Apache Flink (FLINK_MASTER), or an already running job server (JOB_ENDPOINT=host:8099).
flink: $(INSTALLED)aws,report
	$(BUILD) $(if $(JOB_ENDPOINT),--runner PortableRunner --job_endpoint $(JOB_ENDPOINT),--runner FlinkRunner --flink_master $(FLINK_MASTER)) \
		--environment_type $(ENVIRONMENT_TYPE) $(BUILD_ARGS)

clean:
	rm -rf $(SAMPLE_DIR) .pytest_cache .mypy_cache build dist *.egg-info
