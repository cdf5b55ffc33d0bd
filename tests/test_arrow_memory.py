"""Arrow's buffers come from the C library's malloc in the build's processes (the launcher,
an in-process runner, a LocalCluster's Dask workers), which gives memory back between the
steps of a long build; a pool the user names in ARROW_DEFAULT_MEMORY_POOL is kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

from beam_jobs import engines

CHECK = (
    "import os, pyarrow as pa; from pmc_pipeline.arrow_memory import use_system_pool; "
    "use_system_pool(); print(pa.default_memory_pool().backend_name, "
    "os.environ['ARROW_DEFAULT_MEMORY_POOL'])"
)


def _pool_after_use_system_pool(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", CHECK], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_system_pool_is_chosen_and_passed_to_child_processes():
    assert _pool_after_use_system_pool() == "system system"


def test_a_pool_the_user_names_is_kept():
    if not hasattr(pa, "mimalloc_memory_pool"):
        pytest.skip("this pyarrow has no mimalloc pool")
    assert _pool_after_use_system_pool(ARROW_DEFAULT_MEMORY_POOL="mimalloc") == (
        "mimalloc mimalloc"
    )


@pytest.mark.slow
def test_local_dask_workers_use_the_system_pool(monkeypatch):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    runner = "apache_beam.runners.dask.dask_runner.DaskRunner"
    with engines.engine(["--runner", runner], dask_workers=1) as chosen:
        address = chosen.beam_argv[chosen.beam_argv.index("--dask_client_address") + 1]
        with distributed.Client(address) as client:
            pools = client.run(lambda: __import__("pyarrow").default_memory_pool().backend_name)
    assert list(pools.values()) == ["system"]
