"""The build's options are checked before any work: every bad value or unknown option is one
line on stderr and exit 2, with no traceback and nothing written to the output."""

from __future__ import annotations

import subprocess
import sys

import pytest

from beam_jobs import build_dataset
from beam_jobs.options import OptionError, parse_args

BAD = [
    (["--licences", "CC0"], "unknown option --licences; did you mean --licenses?"),
    (["--chunk-size", "0"], "--chunk-size: must be at least 1, got 0"),
    (["--chunk-size", "-3"], "--chunk-size: must be at least 1, got -3"),
    (["--shard-size", "0"], "--shard-size: must be at least 1, got 0"),
    (["--fetch-threads", "0"], "--fetch-threads: must be at least 1, got 0"),
    (["--limit", "-5"], "--limit: must be at least 1, got -5"),
    (["--licenses", ","], "--licenses: expected a comma-separated list"),
    (["--licenses", "CC-FOO"], "--licenses: unknown licence 'CC-FOO'"),
    (["--article-types", " , "], "--article-types: expected a comma-separated list"),
    (["--since", "2026-13-45"], "--since: expected a date YYYY-MM-DD, got '2026-13-45'"),
    (["--split", "train=0.5"], "--split: split fractions must sum to 1"),
    (["--split", "train"], "--split: expected name=fraction"),
    (["--max-side", "0"], "--max-side: must be at least 16"),
    (["--jpeg-quality", "0"], "--jpeg-quality: must be at least 1"),
    (["--max-aspect-ratio", "0.5"], "--max-aspect-ratio: must be at least 1.0"),
    (["--near-dup-threshold", "64"], "--near-dup-threshold: must be at most 63"),
    (["--requests-per-second", "0"], "--requests-per-second: must be above 0.0"),
    (["--takedown", "/no/such/file"], "--takedown: no such file"),
    (["--min-caption-tokens", "9", "--max-caption-tokens", "3"], "is above --max-caption-tokens"),
    (["--layout", "ftp"], "--layout: invalid choice: 'ftp'"),
    (["--bogus-option", "1"], "unknown option --bogus-option"),
    (["-x"], "unknown option -x"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_options_are_one_line_errors_before_any_work(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--root", str(tmp_path), "--output", str(out), *args]
    assert build_dataset.run(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pmc-pipeline build: error: ") and message in err, err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_missing_output_is_an_error(tmp_path, capsys):
    assert build_dataset.run(["--root", str(tmp_path)]) == 2
    assert "--output is required" in capsys.readouterr().err


def test_beam_options_pass_through_and_ours_are_kept_apart():
    ours, beam_argv = parse_args(
        ["--output", "o", "--runner", "DirectRunner", "--direct_num_workers=2", "--limit", "3"]
    )
    assert ours.limit == 3 and ours.output == "o"
    assert beam_argv == ["--runner", "DirectRunner", "--direct_num_workers=2"]
    # DaskRunner's own options are Beam's too.
    _, beam_argv = parse_args(["--output", "o", "--dask_client_address", "127.0.0.1:8786"])
    assert beam_argv == ["--dask_client_address", "127.0.0.1:8786"]
    from beam_jobs import options

    assert set(options.DASK_OPTIONS) <= options._beam_option_strings()  # the list is Beam's
    with pytest.raises(OptionError, match="did you mean --direct_num_workers"):
        parse_args(["--output", "o", "--direct_num_worker", "2"])


@pytest.mark.slow
def test_the_command_line_says_the_same_in_one_line(tmp_path):
    """`pmc-pipeline build` (argparse's own parse of the subcommand) and the module entry
    point both answer a bad value with one line and exit 2."""
    for cmd in (
        [sys.executable, "-m", "pmc_pipeline.cli", "build"],
        [sys.executable, "-m", "beam_jobs.build_dataset"],
    ):
        done = subprocess.run(
            [*cmd, "--output", str(tmp_path / "o"), "--chunk-size", "0"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2
        errors = [line for line in done.stderr.splitlines() if "error" in line]
        assert errors == [
            "pmc-pipeline build: error: argument --chunk-size: must be at least 1, got 0"
        ]
        assert "Traceback" not in done.stderr


def test_a_root_of_the_other_layout_is_an_error_before_any_work(tmp_path, capsys):
    legacy = tmp_path / "legacy"
    (legacy / "oa_package").mkdir(parents=True)
    (legacy / "oa_file_list.csv").write_text("File,Article Citation,Accession ID\n")
    out = tmp_path / "out"
    assert build_dataset.run(["--root", str(legacy), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "looks like a legacy PMC root" in err and "use --layout legacy" in err
    assert len(err.splitlines()) == 1 and not out.exists()
    assert build_dataset.run(["--root", str(tmp_path / "nowhere"), "--output", str(out)]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.fixture
def closed_s3_endpoint(monkeypatch):
    """S3 (boto3 and pyarrow alike) pointed at a loopback port nobody listens on."""
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.slow
def test_an_output_that_cannot_be_reached_fails_within_seconds(closed_s3_endpoint, capsys):
    """An S3 endpoint that refuses connections (or a store that never answers): one line,
    exit 2, before any work — never a silent hang in a listing of the output."""
    import time

    started = time.monotonic()
    argv = ["--output", "s3://no-bucket/out", "--phase", "assemble"]
    assert build_dataset.run(argv) == 2
    assert time.monotonic() - started < build_dataset.OUTPUT_PROBE_SECONDS + 5
    err = capsys.readouterr().err
    assert "cannot reach --output s3://no-bucket/out" in err and len(err.strip().splitlines()) == 1


def test_a_root_that_cannot_be_reached_is_one_line(closed_s3_endpoint, tmp_path, capsys):
    """The default root on a machine without network (an S3 endpoint that refuses
    connections): one line naming --root, exit 2, no traceback, nothing written."""
    out = tmp_path / "out"
    assert build_dataset.run(["--root", "s3://pmc-oa-opendata", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pmc-pipeline build: error: cannot read --root s3://pmc-oa-opendata: ")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_the_output_probe_gives_up_after_its_time(tmp_path):
    """A store that never answers: the probe says so when its time is up."""
    import threading

    from pmc_pipeline.outputs import Output

    class Hanging:
        def get_file_info(self, path):
            threading.Event().wait()

    class Unreachable(Output):
        @property
        def fs(self):
            return Hanging()

    problem = build_dataset._output_problem(Unreachable("gs://b/o"), seconds=0.5)
    assert problem == "cannot reach --output gs://b/o: no answer within 0.5 s"


def test_without_dask_its_options_are_still_known(monkeypatch):
    """The sample needs no dask extra: importing Beam's DaskRunner then fails, and its
    options must neither crash the parse nor be taken for typos."""
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith(("dask.", "apache_beam.runners.dask")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    _, beam_argv = parse_args(["--output", "o", "--dask_client_address", "127.0.0.1:1"])
    assert beam_argv == ["--dask_client_address", "127.0.0.1:1"]
    with pytest.raises(OptionError, match="unknown option --dask_nothing"):
        parse_args(["--output", "o", "--dask_nothing", "1"])
