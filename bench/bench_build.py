"""The whole build: articles/s, wall time and peak memory of the Beam job (DirectRunner, 2
worker processes) against a plain Python loop that calls the same library functions on the
same mirror, at 1,000 and 10,000 synthetic articles.

    python -m bench build [--sizes 1000,10000] [--seed 7] [--workdir DIR]

Each variant runs in its own process (so peak memory is its own); the plain loop writes the
same published files, which are compared byte for byte with the Beam job's. Cost should
grow linearly with the articles (seconds per article flat) and memory stay flat.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.common import PROJECT_ROOT, machine, table, write_section

BEAM_ARGS = ["--chunk-size", "100"]
VARIANTS = {  # name -> Beam's own options (None: the plain loop)
    "beam, 2 processes": ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"],
    "beam, in-process": [],
    "plain loop": None,
}


# --- the plain loop: the same library functions, one process, no Beam ----------------------


def plain_build(root: str, output: str) -> dict:
    """list -> extract every article -> assemble -> write, in one process and in order."""
    from beam_jobs.config import BuildConfig, ListingSpec, SourceSpec
    from pmc_pipeline import assemble, dedupe, manifest, records, shards
    from pmc_pipeline.assemble import AssembleOptions
    from pmc_pipeline.extract import ExtractOptions, extract_article
    from pmc_pipeline.outputs import Output

    cfg = BuildConfig(
        SourceSpec("cloud", root), ListingSpec(), ExtractOptions(), AssembleOptions(), output
    )
    opts, out = cfg.assemble, Output(output)
    source = cfg.source.open()
    results = [extract_article(ref, source, cfg.extract) for ref in source.list_articles()]

    articles = [assemble.finalize_article({**r.article, "generation": 1}, opts) for r in results]
    by_key = {a["article_key"]: a for a in articles}
    figures = [{**f, "generation": 1} for r in results for f in r.figures]
    candidates = [f for f in figures if assemble.is_candidate(f)]
    items = [dedupe.item_of(f) for f in candidates]
    decided = dedupe.dedupe(items, opts.near_threshold)
    final = []
    for f in figures:
        status, duplicate_of = decided.get(f["key"], (f["status"], None))
        reason = dedupe.reason_of(status) or f["reason"]
        row = assemble.apply_decision(f, (status, reason, duplicate_of))
        final.append(assemble.finalize_figure(row, by_key[f["article_key"]]))

    kept = [f for f in final if f["status"] == "kept"]
    per_split = defaultdict(int)
    for f in kept:
        per_split[f["split"]] += 1
    groups = defaultdict(list)
    for f in kept:
        n = shards.shard_count(per_split[f["split"]], opts.shard_size)
        index = shards.shard_index(f["key"], n)
        pair = records.pair_record(
            f, by_key[f["article_key"]], shards.shard_name(f["split"], index)
        )
        groups[(f["split"], index)].append((pair, f["jpeg"]))
    summaries = [
        shards.write_shard(out, split, index, samples) for (split, index), samples in groups.items()
    ]
    n_kept = defaultdict(int)
    for f in kept:
        n_kept[f["article_key"]] += 1
    article_rows = [{**a, "n_kept": n_kept[a["article_key"]]} for a in articles]
    _write_table(out, "figures", "figure", final, records.FIGURE_FIELDS, "key", opts)
    _write_table(
        out, "articles", "article_row", article_rows, records.ARTICLE_FIELDS, "article_key", opts
    )
    stats = manifest.build_stats(
        manifest.count_statuses(article_rows),
        manifest.count_statuses(final),
        summaries,
        articles_listed=len(article_rows),
        figures_seen=len(final),
        bytes_read=sum(a["bytes_read"] for a in article_rows),
        options=cfg.options_for_stats(),
    )
    out.write_json(manifest.STATS_FILE, stats)
    return stats


def _write_table(out, kind, schema, rows, fields, key, opts):
    import math

    from pmc_pipeline import records, shards, staging

    parts = max(1, math.ceil(len(rows) / opts.table_rows_per_file))
    grouped = defaultdict(list)
    for row in rows:
        grouped[staging.stable_hash(row[key]) % parts].append(records.published(row, fields))
    for part, part_rows in grouped.items():
        shards.write_table_part(out, kind, part, part_rows, schema)


# --- measuring --------------------------------------------------------------------------------


def measure(variant: str, root: Path, output: Path) -> dict:
    """Run one variant in a child process; wall time and peak RSS of its largest process."""
    shutil.rmtree(output, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "bench.bench_build",
        "--run",
        json.dumps(VARIANTS[variant]),
        str(root),
        str(output),
    ]
    start = time.perf_counter()
    child = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if child.returncode not in (0, 1):  # 1: the build ran, but its accounting identity broke
        raise RuntimeError(f"{variant} failed:\n{child.stderr[-3000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    return {"seconds": seconds, **report}


def _child(beam_options: str, root: str, output: str) -> None:
    beam_options = json.loads(beam_options)
    if beam_options is None:
        stats = plain_build(root, output)
    else:
        from beam_jobs.build_dataset import run

        with open(os.devnull, "w") as quiet:
            saved, sys.stdout = sys.stdout, quiet
            try:
                run(
                    [
                        "--layout",
                        "cloud",
                        "--root",
                        root,
                        "--output",
                        output,
                        *BEAM_ARGS,
                        *beam_options,
                    ]
                )
            finally:
                sys.stdout = saved
        stats = json.loads(Path(output, "stats.json").read_text())
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "pairs": stats["pairs"],
                "articles": stats["articles"]["listed"],
                "peak_rss_mb": max(own, children) / 1024,
                "identity": stats["identity"]["holds"],
            }
        )
    )


def same_published(a: Path, b: Path) -> bool:
    names = sorted(
        str(p.relative_to(a))
        for top in ("webdataset", "parquet")
        for p in (a / top).rglob("*")
        if p.is_file()
    )
    other = sorted(
        str(p.relative_to(b))
        for top in ("webdataset", "parquet")
        for p in (b / top).rglob("*")
        if p.is_file()
    )
    return names == other and all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench build")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workdir", default=None, help="where mirrors and outputs go (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    from pmc_pipeline.mirror import write_mirror

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-build-"))
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        mirror = work / f"mirror-{n}"
        if not (mirror / ".mirror-truth.json").exists():
            # PDFs are never read in the cloud layout: small stand-ins save disk, not work.
            write_mirror(mirror, "cloud", n, args.seed, pdf_scale=0.02, supplement_scale=0.1)
        outputs = {v: work / f"out-{v.replace(',', '').replace(' ', '-')}-{n}" for v in VARIANTS}
        results = {v: measure(v, mirror, outputs[v]) for v in VARIANTS}
        reference = outputs["plain loop"]
        for variant, r in results.items():
            rows.append(
                [
                    f"{n:,}",
                    variant,
                    f"{r['seconds']:.1f}",
                    f"{n / r['seconds']:.1f}",
                    f"{1000 * r['seconds'] / n:.1f}",
                    f"{r['peak_rss_mb']:.0f}",
                    f"{r['pairs']:,}",
                    "holds" if r["identity"] else "**broken**",
                    "yes" if same_published(outputs[variant], reference) else "**no**",
                ]
            )
            print(rows[-1], flush=True)
    markdown = render(args.sizes, rows)
    print(markdown)
    write_section("build", markdown)


def render(sizes: str, rows: list[list[str]]) -> str:
    """The docs section for the measured rows."""
    headers = [
        "articles",
        "variant",
        "wall s",
        "articles/s",
        "ms / article",
        "peak RSS MB",
        "pairs",
        "accounting identity",
        "same files as the plain loop",
    ]
    return f"""## Build job: Beam (DirectRunner) against a plain loop

`python -m bench build --sizes {sizes}` — the whole build (extract and assemble) of a
synthetic cloud mirror from a local directory, `{" ".join(BEAM_ARGS)}`. *beam, 2 processes*:
DirectRunner with `--direct_num_workers 2 --direct_running_mode multi_processing`; *beam,
in-process*: DirectRunner's default (one process); *plain loop*: one process calling the
same library functions (`extract_article`, `dedupe.dedupe`, `shards.write_shard`, ...) in a
loop. Peak RSS is that of the variant's largest process (for Beam with 2 processes, its
largest worker or the launcher). Machine: {machine()}.

{table(headers, rows)}

Assemble shuffles rows only: a staging chunk keeps its JPEGs in `images.bin` and each shard
writer reads its samples' JPEGs by range. DirectRunner still keeps each stage's rows in memory
(figure rows with captions and mentions, a few kB each), so its peak RSS grows with the
build, by far less than the articles; a distributed runner's workers hold only their
bundles. The plain loop keeps every JPEG in memory until it writes: it is a speed baseline,
not a design. Beam runs its fetches on `--fetch-threads` threads, which is why it can beat
the loop's wall time.

Beam's local multi-worker modes (`multi_processing`, `multi_threading`) can drop elements
once a pipeline moves enough data: a 15-line pipeline of Beam's own transforms (Create,
Reshuffle, FlatMap, CoGroupByKey) joins 86–97% of 10,000 keys of 150 kB values in those
modes and 100% in-process, on apache-beam 2.77.0 and 2.60.0 alike. Builds that still
shuffled JPEGs hit it at 10,000 articles (16,814 of 23,733 pairs written); the accounting
identity reported it and the build exited non-zero. Local builds therefore run in-process
by default (`make build`, `make sample`) and the job warns in the multi-worker modes;
parallel builds belong on a real runner (Dataflow, Spark, Flink).
"""


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        _child(*sys.argv[2:5])
    else:
        main(sys.argv[1:])
