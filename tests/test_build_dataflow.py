"""The whole build translated for Google Cloud Dataflow, offline: Beam's `--dry_run=True` test
option makes DataflowRunner build each pipeline's graph, coders and pickled DoFns and the
sdist of `--setup_file` exactly as for a submission, then stop before sending anything. No
credentials, no network, nothing read or written."""

from __future__ import annotations

import re

import pytest
from helpers.paths import PROJECT_ROOT

from beam_jobs import build_dataset

pytest.importorskip("apache_beam.runners.dataflow.internal.apiclient", reason="no gcp extra")

pytestmark = pytest.mark.slow

# What `make dataflow` passes (see the Makefile), with a stand-in project and bucket.
DATAFLOW = [
    "--runner",
    "DataflowRunner",
    "--project",
    "pmc-pipeline-test",
    "--region",
    "us-east1",
    "--temp_location",
    "gs://pmc-pipeline-test/tmp",
    "--setup_file",
    str(PROJECT_ROOT / "setup.py"),
    "--max_num_workers",
    "100",
    "--experiments",
    "use_runner_v2",
]


def test_the_four_pipelines_translate_for_dataflow(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the sdist is built from setup.py's folder, not here
    argv = ["--output", "gs://pmc-pipeline-test/pmc15m", *DATAFLOW, "--dry_run=True"]
    assert build_dataset.run(argv) == 0
    out = capsys.readouterr().out
    found = dict(re.findall(r"^(\w+): translated for DataflowRunner: (\d+) transforms", out, re.M))
    assert set(found) == {"extract", "decide", "spread", "publish"}, out
    assert all(int(n) > 5 for n in found.values())
    assert not list(tmp_path.iterdir())  # nothing written where it ran


def test_dry_run_is_refused_for_a_runner_that_would_run_the_job(tmp_path, capsys):
    argv = ["--root", str(tmp_path), "--output", str(tmp_path / "o"), "--dry_run=True"]
    assert build_dataset.run(argv) == 2
    assert "--dry_run translates for DataflowRunner only" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
