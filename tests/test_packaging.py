"""Dataflow ships the code as the sdist that `--setup_file ./setup.py` builds: it must carry
every module the build job imports, and the schemas the writers read at run time."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from apache_beam.runners.portability.stager import Stager
from helpers.paths import PROJECT_ROOT

# The job's entry point and the modules its workers import lazily (per layout and store).
JOB_MODULES = [
    "beam_jobs.build_dataset",
    "pmc_pipeline.sources.cloud",
    "pmc_pipeline.sources.legacy",
    "pmc_pipeline.sources.http",
    "pmc_pipeline.sources.s3",
    "pmc_pipeline.sources.local",
    "pmc_pipeline.commands.build",
]


def job_module_files() -> set[str]:
    for name in JOB_MODULES:
        importlib.import_module(name)
    files = set()
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.split(".")[0] in ("pmc_pipeline", "beam_jobs") and path:
            files.add(str(Path(path).resolve().relative_to(PROJECT_ROOT)))
    return files


@pytest.mark.slow
def test_sdist_carries_every_module_the_job_imports(tmp_path):
    sdist = Stager._build_setup_package(str(PROJECT_ROOT / "setup.py"), str(tmp_path))
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        names = {n[len(top) + 1 :] for n in tar.getnames()}
    needed = job_module_files()
    assert "beam_jobs/build_dataset.py" in needed and "pmc_pipeline/extract.py" in needed
    assert needed <= names, sorted(needed - names)
    schemas = {p.name for p in (PROJECT_ROOT / "schemas").glob("*.schema.json")}
    assert {f"schemas/{s}" for s in schemas} <= names

    # What a worker installs from it: the schemas end up inside the package.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "wheel"),
            sdist,
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        wheel_names = set(whl.namelist())
    assert {f"pmc_pipeline/schemas/{s}" for s in schemas} <= wheel_names
    assert {f for f in needed if f.endswith(".py")} <= wheel_names
