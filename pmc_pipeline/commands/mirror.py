"""`pmc-pipeline mirror OUT --layout cloud|legacy --articles N --seed S [--jats DIR]
[--images DIR]`: write a synthetic PMC mirror (see pmc_pipeline/mirror and docs/mirror.md)."""

from __future__ import annotations

import argparse
import sys
import time

from pmc_pipeline.model import Layout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="output directory (new, or an earlier mirror with --overwrite)")
    parser.add_argument("--layout", required=True, choices=(Layout.CLOUD, Layout.LEGACY))
    parser.add_argument(
        "--articles",
        type=int,
        default=None,
        help="number of articles (required without --jats; with --jats, real ones first, "
        "the rest synthetic; default then: one per real file)",
    )
    parser.add_argument("--seed", type=int, required=True, help="same seed, same bytes")
    parser.add_argument(
        "--jats", default=None, help="directory of real JATS files (*.xml, *.nxml) to use"
    )
    parser.add_argument(
        "--images", default=None, help="directory of real images matched to hrefs by name"
    )
    parser.add_argument(
        "--pdf-scale",
        type=float,
        default=1.0,
        help="scale of PDF stand-in sizes (1.0: mean about 540 kB; tests use 0.01)",
    )
    parser.add_argument(
        "--supplement-scale", type=float, default=1.0, help="scale of supplement sizes"
    )
    parser.add_argument(
        "--snapshot-date",
        default=None,
        help="day of the newest inventory / file lists (YYYY-MM-DD)",
    )
    parser.add_argument("--workers", type=int, default=0, help="processes (default: one per CPU)")
    parser.add_argument(
        "--no-bulk", action="store_true", help="legacy: skip the oa_bulk/ lists and tarballs"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier mirror in OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from pmc_pipeline.mirror import write_mirror

    if args.articles is None and args.jats is None:
        print("pmc-pipeline mirror: --articles is required without --jats", file=sys.stderr)
        return 2
    options = {
        "pdf_scale": args.pdf_scale,
        "supplement_scale": args.supplement_scale,
        "workers": args.workers,
        "bulk": not args.no_bulk,
        "overwrite": args.overwrite,
        "progress": not args.quiet and sys.stderr.isatty(),
    }
    if args.snapshot_date:
        options["snapshot_date"] = args.snapshot_date
    start = time.perf_counter()
    try:
        summary = write_mirror(
            args.out, args.layout, args.articles, args.seed, args.jats, args.images, **options
        )
    except (FileExistsError, NotADirectoryError, ValueError) as exc:
        print(f"pmc-pipeline mirror: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    print(
        f"{summary.layout} mirror at {summary.out_dir}: {summary.articles} articles "
        f"({summary.article_versions} versions, {summary.omitted} omitted), {summary.figures} figures, "
        f"{summary.image_files} image files ({summary.corrupt_images} corrupt, "
        f"{summary.missing_images} missing, {summary.duplicates} duplicates, "
        f"{summary.near_duplicates} near duplicates), {summary.files} files, "
        f"{summary.bytes / 1e6:.1f} MB in {seconds:.1f} s; truth: {summary.truth_path}"
    )
    return 0
