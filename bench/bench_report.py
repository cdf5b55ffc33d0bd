"""Benchmark: how long the data card takes, and how its cost grows with the build.

    python -m bench report [--report-output OUT] [--report-rows 1000000]

1. The card of a real build (OUT, default sample/output; without it, a fresh 120-article
   build in a temp dir): each step of write_card, best of 3, and write_card itself.
2. The steps whose cost grows with the number of pairs (charts over the pair columns, the
   gallery's bottom-k sample) on a synthetic pair table of --report-rows rows, in a fresh
   process, with its peak RSS: the figures to extrapolate to a full PMC build (~15 M pairs).
   Everything else the card reads is bounded by --per-split and --clusters.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.common import PROJECT_ROOT, best_of, machine, table, write_section
from pmc_pipeline.outputs import Output
from pmc_pipeline.report import write_card
from pmc_pipeline.report.charts import all_charts
from pmc_pipeline.report.clusters import read_clusters
from pmc_pipeline.report.data import load_stats, read_figure_statuses, read_pair_overview
from pmc_pipeline.report.gallery import read_gallery, sample_keys
from pmc_pipeline.report.plots import render_png
from pmc_pipeline.report.thumbs import thumbnail

PER_SPLIT, CLUSTERS = 24, 12


def _build(base: Path) -> Path:
    from beam_jobs import build_dataset
    from pmc_pipeline.mirror import write_mirror

    write_mirror(base / "mirror", "cloud", 120, 3)
    out = base / "out"
    argv = ["--layout", "cloud", "--root", str(base / "mirror"), "--output", str(out)]
    assert build_dataset.run(argv + ["--split", "train=0.8,val=0.1,test=0.1"]) == 0
    return out


def _steps(out: Path, dest: Path) -> list[list[object]]:
    output = Output(str(out))
    stats = load_stats(output)
    pairs = read_pair_overview(output)
    figures = read_figure_statuses(output)
    charts = all_charts(pairs, figures, stats["options"])
    _, gallery_jpegs = read_gallery(output, pairs, PER_SPLIT)
    _, cluster_jpegs = read_clusters(output, CLUSTERS)
    jpegs = {**gallery_jpegs, **cluster_jpegs}
    steps = {
        "read stats.json and the pair / figure columns": lambda: (
            load_stats(output),
            read_pair_overview(output),
            read_figure_statuses(output),
        ),
        "compute the 9 charts": lambda: all_charts(pairs, figures, stats["options"]),
        "draw the 9 charts (matplotlib, PNG)": lambda: [render_png(c) for c in charts],
        "gallery: sample, pair rows, JPEGs from shards": lambda: read_gallery(
            output, pairs, PER_SPLIT
        ),
        "clusters: rows, JPEGs from staging": lambda: read_clusters(output, CLUSTERS),
        f"{len(jpegs)} thumbnails": lambda: [thumbnail(j) for j in jpegs.values()],
        "write_card (all of it)": lambda: write_card(out, dest),
    }
    return [[name, f"{best_of(fn):.3f}"] for name, fn in steps.items()]


def _synthetic_pairs(rows: int) -> pa.Table:
    rng = np.random.default_rng(0)
    journals = np.array([f"Journal {i}" for i in range(4000)], dtype=object)
    licenses = np.array(["CC BY", "CC BY-NC", "CC0", "CC BY-NC-ND", None], dtype=object)
    return pa.table(
        {
            "key": [f"PMC{10_000_000 + i // 4}v1_f{i % 4 + 1:03d}" for i in range(rows)],
            "split": rng.choice(
                np.array(["train", "val", "test"], dtype=object), rows, p=[0.98, 0.01, 0.01]
            ),
            "caption_tokens": rng.lognormal(3.5, 0.8, rows).astype(np.int64) + 1,
            "width": rng.integers(128, 1025, rows),
            "height": rng.integers(128, 1025, rows),
            "license": rng.choice(licenses, rows),
            "year": rng.integers(1990, 2027, rows),
            "journal": pa.array(journals[rng.zipf(1.5, rows) % len(journals)]).dictionary_encode(),
            "placement": rng.choice(
                np.array(["body", "floats-group", "fig-group"], dtype=object), rows
            ),
            "n_mentions": rng.poisson(1.3, rows).astype(np.int32),
        }
    )


def _scale_child(rows: int, results) -> None:
    pairs = _synthetic_pairs(rows)
    figures = pa.table(
        {"placement": pairs.column("placement"), "status": pa.array(["kept"] * rows)}
    )
    start = time.perf_counter()
    all_charts(pairs, figures, {})
    charts = time.perf_counter() - start
    start = time.perf_counter()
    sample_keys(pairs, PER_SPLIT)
    sample = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put((charts, sample, peak_mib))


def _scale(rows: int) -> tuple[float, float, float]:
    context = multiprocessing.get_context("spawn")  # its own peak RSS
    results = context.Queue()
    child = context.Process(target=_scale_child, args=(rows, results))
    child.start()
    measured = results.get()
    child.join()
    return measured


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench report")
    parser.add_argument(
        "--report-output", default=None, help="a finished build (default sample/output)"
    )
    parser.add_argument("--report-rows", type=int, default=1_000_000)
    args, _ = parser.parse_known_args(argv)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        out = Path(args.report_output) if args.report_output else PROJECT_ROOT / "sample" / "output"
        if not (out / "stats.json").exists():
            out = _build(Path(tmp))
        stats = load_stats(Output(str(out)))
        steps = _steps(out, Path(tmp) / "card")
    charts, sample, peak = _scale(args.report_rows)
    per_15m = 15_000_000 / args.report_rows
    shown = out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else "a fresh build"
    markdown = "\n\n".join(
        [
            "## Data card (`python -m bench report`)",
            f"{machine()}; load average {load[0]:.1f} before the run (a shared machine: wall "
            "times include everyone's load). Card of "
            f"`{shown}`: {stats['articles']['listed']:,} articles, {stats['pairs']:,} pairs, "
            f"{PER_SPLIT} per split in the gallery, {CLUSTERS} clusters. Seconds, best of 3:",
            table(["step", "s"], steps),
            f"Steps that grow with the build, on a synthetic table of {args.report_rows:,} pairs "
            "(in a fresh process):",
            table(
                ["step", f"s for {args.report_rows:,} pairs", "x15 M pairs (linear)"],
                [
                    [
                        "compute the 9 charts from the pair columns",
                        f"{charts:.2f}",
                        f"{charts * per_15m:.0f}",
                    ],
                    [
                        "gallery sample (bottom-k of stable key hashes)",
                        f"{sample:.2f}",
                        f"{sample * per_15m:.0f}",
                    ],
                ],
            ),
            f"Peak RSS of that process: {peak:,.0f} MiB (table included). The chart and sample "
            "steps are linear in the pairs; the rest of the card is bounded by --per-split and "
            "--clusters.",
        ]
    )
    print(markdown)
    write_section("report", markdown)
