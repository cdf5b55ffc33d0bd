"""The small real build the data card tests share (tests/test_report.py and
tests/test_report_browser.py): a synthetic mirror built with Beam's DirectRunner, made
once per test session; and a copy of it with hostile text in its pairs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ARTICLES = 60
SEED = 5  # a mirror whose build has exact and near duplicates and three splits
BUILD_ARGS = ["--chunk-size", "20", "--shard-size", "40", "--split", "train=0.6,val=0.2,test=0.2"]
PER_SPLIT = 12
HOSTILE = '</p><script>alert(1)</script><img src="http://example.invalid/x.png" onerror="alert(2)">'


def built_output(base: Path) -> Path:
    """The shared build under pytest's session temp folder (built on first use)."""
    out = base / "report-build" / "out"
    if not (out / "stats.json").exists():
        from beam_jobs import build_dataset
        from pmc_pipeline.mirror import write_mirror

        mirror = base / "report-build" / "mirror"
        write_mirror(
            mirror, "cloud", ARTICLES, SEED, pdf_scale=0.02, supplement_scale=0.1, workers=1
        )
        argv = ["--layout", "cloud", "--root", str(mirror), "--output", str(out), *BUILD_ARGS]
        assert build_dataset.run(argv) == 0
    return out


def hostile_copy(build: Path, out: Path) -> Path:
    """A copy of the build whose pairs have markup and script in caption, title, journal."""
    shutil.copytree(build, out, ignore=shutil.ignore_patterns("card"))
    for part in sorted((out / "parquet" / "pairs").rglob("*.parquet")):
        pairs = pq.read_table(part)
        for name in ("caption", "title", "journal"):
            values = pa.array([f"{HOSTILE} {i}" for i in range(pairs.num_rows)], pa.string())
            pairs = pairs.set_column(pairs.schema.get_field_index(name), name, values)
        pq.write_table(pairs, part)
    return out
