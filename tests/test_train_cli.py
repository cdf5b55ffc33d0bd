"""The `train` and `evaluate` command faces: thin (torch is imported only under
pmc_pipeline/train/), and --help shows each option's default and the presets' values."""

from __future__ import annotations

import subprocess
import sys

from helpers.paths import PROJECT_ROOT

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
    assert "--zero-shot" in done.stdout
    # every option the tiny preset carries shows both values in its help
    text = " ".join(done.stdout.split())
    for option, values in [
        ("--batch-size", "(default: 4096; preset tiny: 64)"),
        ("--lr", "(default: 0.0005; preset tiny: 0.001)"),
        ("--warmup", "(default: 2000; preset tiny: 30)"),
        ("--no-grad-checkpointing", "(default: True; preset tiny: False)"),
    ]:
        helps = [part.split(" --", 1)[0] for part in text.split(f" {option}")[1:]]
        assert any(values in help_text for help_text in helps), helps
    assert "records where each value came from" in done.stdout
