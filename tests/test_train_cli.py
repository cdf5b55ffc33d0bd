"""The `train` and `evaluate` command faces: thin (torch is imported only under
pmc_pipeline/train/), options with their sources in --help."""

from __future__ import annotations

import subprocess
import sys

from conftest import PROJECT_ROOT

THIN = """
import sys
from pmc_pipeline import cli
for name in ("train", "evaluate"):
    module = cli._load(name)
    try:
        cli.main([name, "--help"])
    except SystemExit:
        pass
try:  # a run without an export: refused before any model is loaded
    cli.main(["evaluate", "--run", sys.argv[1], "--data", sys.argv[1]])
except SystemExit as exc:
    assert "holds no export" in str(exc), exc
heavy = sorted(m for m in ("torch", "open_clip", "torchvision") if m in sys.modules)
assert not heavy, heavy
"""


def test_the_command_faces_import_no_torch(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", THIN, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--batch-size" in done.stdout and "--zero-shot" in done.stdout
