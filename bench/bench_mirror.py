"""Benchmark: how fast the synthetic mirror is written, and how big it is, in each layout.

    python -m bench mirror --mirror-articles=10000

Reports wall time, CPU time (this process and its workers) and the size on disk. The CPU
time is the figure to compare across machines: on a shared machine the wall time also
measures everyone else's load, which the section records (load average).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import machine, table, write_section
from pmc_pipeline.mirror import write_mirror


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool's workers, once joined
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench mirror")
    parser.add_argument("--mirror-articles", type=int, default=2000)
    parser.add_argument("--mirror-seed", type=int, default=7)
    parser.add_argument("--mirror-workers", type=int, default=0, help="0: one per CPU")
    parser.add_argument("--mirror-dir", default=None, help="where to write (default: a temp dir)")
    parser.add_argument("--mirror-layouts", default="cloud,legacy")
    args, _ = parser.parse_known_args(argv)
    base = Path(args.mirror_dir or tempfile.mkdtemp(prefix="bench-mirror-"))
    rows = []
    load_before = os.getloadavg()
    for layout in args.mirror_layouts.split(","):
        out = base / layout
        shutil.rmtree(out, ignore_errors=True)
        cpu, start = _cpu_seconds(), time.perf_counter()
        summary = write_mirror(
            out, layout, args.mirror_articles, args.mirror_seed, workers=args.mirror_workers
        )
        wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        size = _disk_bytes(out)
        rows.append(
            [
                layout,
                f"{summary.articles:,}",
                f"{summary.article_versions:,}",
                f"{summary.figures:,}",
                f"{summary.files:,}",
                f"{size / 1e9:.2f} GB",
                f"{wall:.0f} s",
                f"{cpu:.0f} s",
                f"{cpu / summary.articles * 1000:.0f} ms",
                f"{summary.articles / wall:.0f}",
            ]
        )
        print(rows[-1], flush=True)
        if args.mirror_dir is None:
            shutil.rmtree(out)
    load_after = os.getloadavg()
    workers = args.mirror_workers or os.cpu_count()
    markdown = "\n".join(
        [
            "## Synthetic mirror (pmc_pipeline.mirror)",
            "",
            f"`python -m bench mirror --mirror-articles={args.mirror_articles}` on {machine()}, "
            f"{workers} worker processes, default options (PDF stand-ins mean about 540 kB).",
            "",
            table(
                [
                    "layout",
                    "articles",
                    "versions",
                    "figures",
                    "files",
                    "on disk",
                    "wall",
                    "CPU",
                    "CPU / article",
                    "articles / s",
                ],
                rows,
            ),
            "",
            f"Load average (1 min) before / after: {load_before[0]:.1f} / {load_after[0]:.1f}. "
            "CPU time counts this process and its workers; with the machine to itself, wall "
            "time is about CPU time / workers. The legacy layout costs more: every package is "
            "gzipped, and its PDF stand-in is incompressible by design.",
        ]
    )
    write_section("mirror", markdown)
    print(markdown)
