"""The build on a real multi-process engine: Beam's DaskRunner over a dask.distributed cluster
of 2 worker processes on 127.0.0.1. Every output byte (shards, Parquet, sizes.json, the Hub
files, stats.json) equals the in-process DirectRunner build, on the synthetic mirror and on
a mirror of hostile articles; a worker killed mid-extract loses and duplicates nothing."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from helpers.build_checks import assert_same_output, check_build
from helpers.mirrors import replace_xml, truth
from helpers.servers import Faults, serve_http

from beam_jobs import build_dataset
from pmc_pipeline.mirror import write_mirror

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

pytestmark = pytest.mark.slow

SMALL = {"pdf_scale": 0.02, "supplement_scale": 0.1, "workers": 1}
FAST = ["--chunk-size", "6", "--shard-size", "25", "--split", "train=0.6,val=0.2,test=0.2"]
EVERYTHING = ("webdataset", "parquet", "stats.json", "README.md", "croissant.json")


def build(root, out, *extra) -> int:
    return build_dataset.run(["--root", str(root), "--output", str(out), *FAST, *extra])


@pytest.fixture(scope="module")
def cluster():
    """A dask.distributed cluster of 2 worker processes (one thread each) on loopback."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dask") / "mirror"
    write_mirror(root, "cloud", 36, 11, **SMALL)
    return root


@pytest.fixture(autouse=True)
def fixed_build_date(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")


def test_a_local_dask_cluster_gives_the_in_process_bytes(mirror, tmp_path):
    """`--runner DaskRunner` with no address: the build starts its own 2-process cluster."""
    direct, dask = tmp_path / "direct", tmp_path / "dask"
    assert build(mirror, direct) == 0
    assert build(mirror, dask, "--runner", "DaskRunner", "--dask-workers", "2") == 0
    check_build(dask)
    assert_same_output(direct, dask, tops=EVERYTHING)


def test_hostile_articles_end_the_same_on_both_engines(mirror, cluster, tmp_path):
    """Broken XML, a missing file, an entity bomb, a corrupt image: the same statuses and
    the same bytes on a given cluster (--dask_client_address) as in-process."""
    hostile = tmp_path / "mirror"
    shutil.copytree(mirror, hostile)
    latest = [
        a["location"].rstrip("/")
        for a in truth(hostile)["articles"]
        if a["latest"] and a["expected_status"] == "ok"
    ]
    broken, gone, bomb, garbled = (hostile / name for name in latest[:4])
    replace_xml(hostile, broken, b"<article><front>unclosed")
    (gone / f"{gone.name}.xml").unlink()
    replace_xml(
        hostile,
        bomb,
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx"><!ENTITY y "&x;&x;&x;">]>'
        b"<article><body><p>&y;</p></body></article>",
    )
    for image in garbled.glob("*.jpg"):
        image.write_bytes(image.read_bytes()[:200])
    direct, dask = tmp_path / "direct", tmp_path / "dask"
    tolerant = ["--max-failed-fraction", "0.2"]  # the missing file is a failed fetch
    assert build(hostile, direct, *tolerant) == 0
    address = ["--dask_client_address", cluster.scheduler_address]
    assert build(hostile, dask, *tolerant, "--runner", "DaskRunner", *address) == 0
    got = check_build(dask)
    statuses = {a["status"] for a in got["articles"]}
    assert {"parse_failed", "fetch_failed"} <= statuses
    assert_same_output(direct, dask, tops=EVERYTHING)


def test_a_worker_killed_mid_extract_loses_nothing(mirror, cluster, tmp_path):
    """Dask retries the killed worker's task on the other worker (its nanny restarts the
    process): the build completes with exactly the in-process output."""
    direct, out = tmp_path / "direct", tmp_path / "out"
    assert build(mirror, direct) == 0
    client = distributed.Client(cluster.scheduler_address)
    slow = Faults(rate=1.0, kinds=("slow",), attempts=10**6, slow_seconds=0.15)
    codes = []
    with serve_http(mirror, slow) as url:
        args = ["--runner", "DaskRunner", "--dask_client_address", cluster.scheduler_address]
        args += ["--fetch-threads", "1", "--requests-per-second", "1000"]
        runner = threading.Thread(target=lambda: codes.append(build(url, out, *args)))
        runner.start()
        deadline = time.monotonic() + 180
        while not list(out.glob("staging/g*/_SUCCESS.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        staged = len(list(out.glob("staging/g*/_SUCCESS.json")))
        pids = client.run(os.getpid)  # worker address -> pid
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)
        runner.join(timeout=600)
    client.close()
    assert staged < 6, "the kill should land while chunks are still being extracted"
    assert codes == [0]
    check_build(out)
    assert_same_output(direct, out, tops=("webdataset", "parquet/pairs", "parquet/figures"))
