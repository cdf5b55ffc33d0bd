"""`pmc-pipeline report OUTPUT`: write the data card of a finished build and print the path
of its index.html (static: open it from disk, it loads nothing from the network)."""

from __future__ import annotations

import sys

from pmc_pipeline.report import ReportError, write_card
from pmc_pipeline.report.clusters import DEFAULT_CLUSTERS
from pmc_pipeline.report.gallery import DEFAULT_PER_SPLIT


def add_arguments(parser) -> None:
    parser.add_argument(
        "output", metavar="OUTPUT", help="the build's output: a path, s3:// or gs://"
    )
    parser.add_argument(
        "--dest",
        metavar="DIR",
        help="local folder for the card (default OUTPUT/card; required for s3:// and gs://)",
    )
    parser.add_argument(
        "--per-split",
        type=_non_negative,
        default=DEFAULT_PER_SPLIT,
        help=f"random pairs per split in the gallery (default {DEFAULT_PER_SPLIT})",
    )
    parser.add_argument(
        "--clusters",
        type=_non_negative,
        default=DEFAULT_CLUSTERS,
        help=f"duplicate clusters shown side by side (default {DEFAULT_CLUSTERS})",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the gallery's sample (default 0)"
    )


def run(args) -> int:
    try:
        index = write_card(
            args.output,
            args.dest,
            per_split=args.per_split,
            clusters=args.clusters,
            seed=args.seed,
        )
    except ReportError as exc:
        print(f"pmc-pipeline report: {exc}", file=sys.stderr)
        return 1
    print(index)
    return 0


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value
