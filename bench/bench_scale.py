"""Per-core costs of each build stage, measured here, and the projection of a full build from
them: CPU-hours, bytes read (cloud layout against legacy tarballs), output size, Dataflow
workers and cost for a 24-hour run, memory per worker, where the shuffles sit.

    python -m bench scale [--dedupe-items=300000]

The measured inputs come from real PMC files where we have them (../shared/fixtures: 60 JATS
articles, 27 full-size figure JPEGs) and from the synthetic mirror otherwise; every other
number is an assumption, named in ASSUMPTIONS with its source. The result is written to the
`scale` section of docs/benchmarks.md and to the generated part of docs/scale.md.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import PROJECT_ROOT, SHARED_FIXTURES, best_of, machine, table, write_section

SCALE_MD = PROJECT_ROOT / "docs" / "scale.md"

# Every number the projection uses that is not measured by this script.
ASSUMPTIONS = {
    "article_versions": (
        8_000_000,
        "PMC OA article versions to list (the issue; PMC's 2026 cloud inventory)",
    ),
    "figures": (25_000_000, "figures seen in them (the issue)"),
    "pairs": (15_000_000, "pairs kept: PMC-15M's count (Zhang et al.), about 60% of the figures"),
    "pdf_mb": (1.5, "mean PDF in a legacy package, MB (assumption: typical journal PDF)"),
    "supplements_mb": (1.0, "mean supplements in a legacy package, MB (assumption)"),
    "thumb_kb": (8.0, "mean .gif thumbnail, kB (fixtures: 38 real PMC thumbnails, 1.6-11 kB)"),
    "vcpu_hour_usd": (0.056, "Dataflow batch vCPU-hour, us-central1 list price (2025)"),
    "gb_hour_usd": (0.003557, "Dataflow batch memory GB-hour, us-central1 list price (2025)"),
    "shuffle_gb_usd": (0.011, "Dataflow Shuffle, per GB processed, list price (2025)"),
    "worker_vcpus": (4, "n2-standard-4 workers: 4 vCPUs, 16 GB"),
    "worker_gb": (16, "memory of one worker, GB"),
    "get_seconds": (
        0.06,
        "one S3 GET of a ~100 kB object from a Dataflow worker, first byte to last (assumption)",
    ),
    "fetch_threads": (
        8,
        "--fetch-threads: concurrent article fetches per SDK process (one process per vCPU)",
    ),
    "sidecar_kb": (2.5, "pair sidecar JSON + caption in a shard, kB (the sample build)"),
    "read_ops_usd": (
        0.004,
        "Cloud Storage class B operations (the shard writers' ranged reads), per 10,000 (2025)",
    ),
}


def _a(name: str) -> float:
    return ASSUMPTIONS[name][0]


BEAM_OVERHEAD_UNMEASURED = 1.3


def beam_overhead() -> tuple[float, str]:
    """Beam's CPU over the plain loop's on the same mirror, extract and assemble together,
    at the largest size `python -m bench build` measured (docs/benchmarks-build.json); the
    old assumption when it has not been run."""
    from bench.bench_build import MEASURED

    if not MEASURED.exists():
        return BEAM_OVERHEAD_UNMEASURED, "assumed: run python -m bench build"
    runs = json.loads(MEASURED.read_text())["runs"]
    cpu = {(r["articles"], r["engine"]): r["extract"]["cpu"] + r["assemble"]["cpu"] for r in runs}
    sizes = [n for n, engine in cpu if engine == "plain loop" and (n, "beam in-process") in cpu]
    if not sizes:
        return BEAM_OVERHEAD_UNMEASURED, "assumed: run python -m bench build"
    n = max(sizes)
    ratio = cpu[(n, "beam in-process")] / cpu[(n, "plain loop")]
    return ratio, f"measured: Beam in-process CPU / plain loop CPU at {n:,} articles"


# --- measured inputs --------------------------------------------------------------------------


def measure_parse() -> dict:
    from pmc_pipeline.jats import parse_article

    files = sorted(
        p for p in (SHARED_FIXTURES / "jats").rglob("*") if p.suffix in (".xml", ".nxml")
    )
    docs = [p.read_bytes() for p in files]
    n_figures = sum(len(parse_article(d).figures) for d in docs)
    seconds = best_of(lambda: [parse_article(d) for d in docs], repeat=5)
    return {
        "articles": len(docs),
        "figures": n_figures,
        "mean_xml_kb": statistics.mean(len(d) for d in docs) / 1e3,
        "ms_per_article": 1e3 * seconds / len(docs),
    }


def measure_images() -> dict:
    from pmc_pipeline.images import process_image

    jpegs = [p.read_bytes() for p in sorted((SHARED_FIXTURES / "images" / "pmc").glob("*/*.jpg"))]
    outputs = [process_image(d) for d in jpegs]
    seconds = best_of(lambda: [process_image(d) for d in jpegs], repeat=3)
    return {
        "images": len(jpegs),
        "passed_through": sum(o.passed_through for o in outputs),
        "mean_source_kb": statistics.mean(len(d) for d in jpegs) / 1e3,
        "mean_output_kb": statistics.mean(len(o.jpeg) for o in outputs) / 1e3,
        "ms_per_image": 1e3 * seconds / len(jpegs),
        "samples": [(o, d) for o, d in zip(outputs, jpegs, strict=True)],
    }


def measure_write(samples) -> dict:
    from pmc_pipeline import shards
    from pmc_pipeline.captions import caption_fields
    from pmc_pipeline.outputs import Output
    from pmc_pipeline.records import EVIDENCE_TYPES, PAIR_FIELDS

    caption = "a caption of twelve words " * 3
    analysed = caption_fields(caption)  # the caption analysis fields every pair carries
    analysed["figure_type_evidence"] = {
        t: analysed["figure_type_evidence"].get(t) for t in EVIDENCE_TYPES
    }
    pairs = []
    for i, (image, _) in enumerate(samples * 8):
        pair = dict.fromkeys(PAIR_FIELDS)
        pair.update(
            key=f"PMC{1000 + i}v1_f001",
            split="train",
            shard="train-000000",
            pmcid=f"PMC{1000 + i}",
            version=1,
            figure_index=1,
            kind="figure",
            caption=caption,
            **analysed,
            caption_tokens=15,
            placement="body",
            mentions=[],
            layout="cloud",
            location="x/",
            **image.to_metadata(),
            image_bytes=len(image.jpeg),
        )
        pairs.append((pair, image.jpeg))
    with tempfile.TemporaryDirectory() as tmp:
        out = Output(tmp)
        seconds = best_of(lambda: shards.write_shard(out, "train", 0, pairs), repeat=3)
        size = (Path(tmp) / shards.shard_path("train", 0)).stat().st_size
    return {"samples": len(pairs), "mb": size / 1e6, "ms_per_sample": 1e3 * seconds / len(pairs)}


def measure_dedupe(n: int) -> dict:
    import random

    from pmc_pipeline import dedupe

    rng = random.Random(0)
    items = [
        dedupe.Item(f"k{i:08d}", f"{i:064x}", f"{rng.getrandbits(64):016x}", (0,)) for i in range(n)
    ]
    start = time.perf_counter()
    _, stats = dedupe.dedupe_with_stats(items, 4)
    seconds = time.perf_counter() - start
    return {"items": n, "us_per_item": 1e6 * seconds / n, "max_bucket": stats.max_size}


def measure_extract(n_articles: int = 200) -> dict:
    """End to end per article on the synthetic mirror: fetch from disk, parse, images, filters."""
    from pmc_pipeline.extract import ExtractOptions, extract_article
    from pmc_pipeline.mirror import write_mirror
    from pmc_pipeline.sources import open_source

    with tempfile.TemporaryDirectory() as tmp:
        write_mirror(Path(tmp) / "m", "cloud", n_articles, 7, pdf_scale=0.02, supplement_scale=0.1)
        source = open_source("cloud", str(Path(tmp) / "m"))
        refs = list(source.list_articles())
        start = time.perf_counter()
        results = [extract_article(ref, source, ExtractOptions()) for ref in refs]
        seconds = time.perf_counter() - start
    figures = sum(len(r.figures) for r in results)
    return {
        "articles": len(refs),
        "figures": figures,
        "ms_per_article": 1e3 * seconds / len(refs),
        "ms_per_figure": 1e3 * seconds / figures,
    }


# --- the projection ---------------------------------------------------------------------------


def project(m: dict) -> tuple[list[list], list[list], dict]:
    articles, figures, pairs = _a("article_versions"), _a("figures"), _a("pairs")
    # Per figure, the larger of: the real (mostly 600-800 px) PMC JPEGs, and the synthetic
    # mirror's end-to-end extract (figures up to ~2,000 px, fetch and filters included).
    figure_ms = max(m["image"]["ms_per_image"], m["extract"]["ms_per_figure"])
    parse_h = articles * m["parse"]["ms_per_article"] / 3.6e6
    image_h = figures * figure_ms / 3.6e6
    write_h = pairs * m["write"]["ms_per_sample"] / 3.6e6
    dedupe_h = pairs * m["dedupe"]["us_per_item"] / 3.6e9
    plain_h = parse_h + image_h + write_h + dedupe_h
    overhead, overhead_source = beam_overhead()
    total_h = plain_h * overhead
    rows = [
        [
            "parse JATS",
            f"{articles:,.0f} articles x {m['parse']['ms_per_article']:.2f} ms",
            f"{parse_h:,.0f}",
        ],
        [
            "images (fetch, decode, normalise, encode)",
            f"{figures:,.0f} figures x {figure_ms:.1f} ms",
            f"{image_h:,.0f}",
        ],
        [
            "write shards + Parquet",
            f"{pairs:,.0f} pairs x {m['write']['ms_per_sample']:.2f} ms",
            f"{write_h:,.0f}",
        ],
        [
            "dedupe (one process)",
            f"{pairs:,.0f} pairs x {m['dedupe']['us_per_item']:.0f} µs",
            f"{dedupe_h:,.2f}",
        ],
        ["sum (plain loop)", "", f"{plain_h:,.0f}"],
        ["with Beam's overhead", f"x {overhead:.2f} ({overhead_source})", f"**{total_h:,.0f}**"],
    ]

    xml_gb = articles * m["parse"]["mean_xml_kb"] / 1e6
    img_gb = figures * m["image"]["mean_source_kb"] / 1e6
    meta_gb = articles * 2e-6  # a metadata JSON is about 2 kB
    cloud_gb = xml_gb + img_gb + meta_gb
    thumbs_gb = figures * _a("thumb_kb") / 1e6
    legacy_gb = xml_gb + img_gb + thumbs_gb + articles * (_a("pdf_mb") + _a("supplements_mb")) / 1e3
    out_gb = pairs * (m["image"]["mean_output_kb"] + _a("sidecar_kb")) / 1e6
    staging_gb = out_gb / 0.6  # candidates before dedupe, plus rows of every figure

    cpu_workers = math.ceil(total_h / 24 / _a("worker_vcpus"))
    gets = articles * 2 + figures  # metadata JSON and XML per article, one GET per image
    gets_per_worker_s = _a("worker_vcpus") * _a("fetch_threads") / _a("get_seconds")
    request_workers = math.ceil(gets / gets_per_worker_s / 86400)
    workers = max(cpu_workers, request_workers)
    # Only rows move through the shuffles (JPEGs stay in staging until a shard writer reads
    # them by range): every figure's row, the LSH band keys, and each kept pair's record.
    shuffle_gb = figures * 2e-6 + pairs * 25 * 0.1e-6 + pairs * _a("sidecar_kb") / 1e6
    cost_cpu = workers * 24 * _a("worker_vcpus") * _a("vcpu_hour_usd")  # billed for wall time
    cost_mem = workers * 24 * _a("worker_gb") * _a("gb_hour_usd")
    cost_shuffle = shuffle_gb * _a("shuffle_gb_usd")
    cost_reads = pairs / 1e4 * _a("read_ops_usd")  # one ranged read of staging per sample
    cost = cost_cpu + cost_mem + cost_shuffle + cost_reads
    bytes_rows = [
        [
            "read, cloud layout",
            f"XML {xml_gb:,.0f} + images {img_gb:,.0f} + metadata {meta_gb:,.0f}",
            f"{cloud_gb:,.0f} GB",
        ],
        [
            "read, legacy tarballs",
            "+ PDFs, supplements, thumbnails",
            f"{legacy_gb:,.0f} GB ({legacy_gb / cloud_gb:.1f}x)",
        ],
        [
            "published (shards)",
            f"{pairs:,.0f} x {m['image']['mean_output_kb'] + _a('sidecar_kb'):.0f} kB",
            f"{out_gb:,.0f} GB",
        ],
        ["staging", "candidates' JPEGs and every figure's row", f"~{staging_gb:,.0f} GB"],
        [
            "shuffled (assemble)",
            "figure rows + LSH bands + pair records (no JPEGs)",
            f"~{shuffle_gb:,.0f} GB",
        ],
        [
            "JPEGs read back from staging",
            f"{pairs / 1e6:,.0f} M ranged reads by the shard writers",
            f"{out_gb:,.0f} GB",
        ],
        [
            "workers to finish the CPU in 24 h",
            f"{total_h:,.0f} vCPU-h / 24 h / {_a('worker_vcpus'):.0f} vCPU",
            f"{cpu_workers}",
        ],
        [
            "workers to finish the GETs in 24 h",
            f"{gets / 1e6:,.0f} M GETs / ({gets_per_worker_s:,.0f} GET/s per worker x 86,400 s)",
            f"{request_workers}",
        ],
        ["Dataflow workers, 24 h", "the larger of the two", f"**{workers}**"],
        [
            "cost",
            f"{workers} workers x 24 h: vCPU ${cost_cpu:,.0f} + memory ${cost_mem:,.0f}"
            f" + shuffle ${cost_shuffle:,.0f} + reads ${cost_reads:,.0f}",
            f"**${cost:,.0f}**",
        ],
        [
            "network per worker",
            f"{cloud_gb:,.0f} GB / 24 h / {workers} workers",
            f"{cloud_gb * 8e3 / 86400 / workers:.0f} Mbit/s",
        ],
    ]
    return (
        rows,
        bytes_rows,
        {"total_h": total_h, "workers": workers, "cost": cost},
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scale")
    parser.add_argument("--dedupe-items", type=int, default=300_000)
    args = parser.parse_args(argv)
    if not SHARED_FIXTURES.exists():
        print(f"needs the real fixtures at {SHARED_FIXTURES}")
        return
    images = measure_images()
    m = {
        "parse": measure_parse(),
        "image": images,
        "write": measure_write(images.pop("samples")),
        "dedupe": measure_dedupe(args.dedupe_items),
        "extract": measure_extract(),
    }
    inputs = [
        [
            "parse (real JATS)",
            f"{m['parse']['articles']} articles, {m['parse']['figures']} figures, mean {m['parse']['mean_xml_kb']:.0f} kB",
            f"{m['parse']['ms_per_article']:.2f} ms / article",
        ],
        [
            "image (real PMC JPEGs)",
            f"{m['image']['images']} images ({m['image']['passed_through']} published as they came),"
            f" mean {m['image']['mean_source_kb']:.0f} kB in, {m['image']['mean_output_kb']:.0f} kB out",
            f"{m['image']['ms_per_image']:.1f} ms / image",
        ],
        [
            "write (tar + Parquet)",
            f"{m['write']['samples']} samples, {m['write']['mb']:.1f} MB",
            f"{m['write']['ms_per_sample']:.2f} ms / sample",
        ],
        [
            "dedupe (exact + LSH)",
            f"{m['dedupe']['items']:,} hashes, max bucket {m['dedupe']['max_bucket']}",
            f"{m['dedupe']['us_per_item']:.0f} µs / item",
        ],
        [
            "extract, end to end (synthetic)",
            f"{m['extract']['articles']} articles, {m['extract']['figures']} figures",
            f"{m['extract']['ms_per_article']:.0f} ms / article ({m['extract']['ms_per_figure']:.0f} ms / figure)",
        ],
    ]
    cpu_rows, byte_rows, totals = project(m)
    assumptions = [[name, f"{value:,}", source] for name, (value, source) in ASSUMPTIONS.items()]
    body = f"""`python -m bench scale` on {machine()}: one process, one thread per measurement.

**Measured inputs (per core)**

{table(["stage", "data", "cost"], inputs)}

**CPU-hours of a full build**

{table(["stage", "arithmetic", "CPU-hours"], cpu_rows)}

**Bytes, workers and cost of a 24-hour Dataflow run**

{table(["what", "arithmetic", "result"], byte_rows)}

**Assumptions** (everything above that was not measured)

{table(["name", "value", "source"], assumptions)}
"""
    print(body)
    write_section("scale", "## Scale projection\n\n" + body)
    _write_generated(body)


def _write_generated(body: str) -> None:
    begin, end = "<!-- generated:scale -->", "<!-- /generated:scale -->"
    text = (
        SCALE_MD.read_text(encoding="utf-8")
        if SCALE_MD.exists()
        else f"# Scale plan\n\n{begin}\n{end}\n"
    )
    block = f"{begin}\n{body.strip()}\n{end}"
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.DOTALL)
    SCALE_MD.write_text(text, encoding="utf-8")
