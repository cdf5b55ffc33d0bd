"""BuildOptions: every option of the build job, with its default and its check.

Our options are parsed strictly, before any work: a bad value is a one-line error (exit 2),
and an option that is neither ours nor Beam's is an error with a "did you mean" — never
passed to Beam, which would only warn and run the build without it (`--licences CC0`).
Beam's own options (--runner, --direct_num_workers, Dataflow's --project --region
--temp_location --setup_file, DaskRunner's --dask_client_address, ...) are passed through.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import os
from collections.abc import Callable
from typing import NoReturn

from apache_beam.options.pipeline_options import PipelineOptions


class OptionError(Exception):
    """A bad option or value; the message is the one line the user sees."""


class _StrictParser(argparse.ArgumentParser):
    """argparse that raises OptionError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise OptionError(message)


# --- value checks (argparse `type=` callables; their ValueError becomes the message) ---------


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    check.__name__ = f"integer >= {minimum}"
    return check


def _int_in(low: int, high: int) -> Callable[[str], int]:
    at_least = _int_at_least(low)

    def check(text: str) -> int:
        value = at_least(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    check.__name__ = f"integer in {low}..{high}"
    return check


def _float_in(
    low: float, high: float | None = None, *, low_open: bool = False
) -> Callable[[str], float]:
    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value != value or (low_open and value <= low) or value < low:
            bound = f"above {low}" if low_open else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {text}")
        return value

    check.__name__ = "number"
    return check


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _readable_file(text: str) -> str:
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text!r}")
    return text


def _non_empty_list(text: str) -> str:
    """A comma-separated list with at least one entry (or 'all')."""
    if not [v for v in text.split(",") if v.strip()]:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return text


POSITIVE = _int_at_least(1)
NON_NEGATIVE = _int_at_least(0)


class BuildOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        # Where from, where to.
        parser.add_argument(
            "--layout",
            choices=["cloud", "legacy"],
            default="cloud",
            help="PMC layout of the root (default: cloud)",
        )
        parser.add_argument(
            "--root",
            default=None,
            help="PMC root: s3://bucket[/prefix], http(s)://mirror/, or a directory "
            "(default for cloud: s3://pmc-oa-opendata)",
        )
        parser.add_argument(
            "--output",
            required=False,
            default=None,
            help="build output: a local path, s3:// or gs:// (required)",
        )
        parser.add_argument(
            "--phase",
            choices=["all", "extract", "assemble"],
            default="all",
            help="run extract (resumable staging), assemble (publish), or both",
        )

        parser.add_argument(
            "--dask-workers",
            type=POSITIVE,
            default=None,
            help="with --runner DaskRunner and no --dask_client_address: worker processes "
            "of the local Dask cluster the build starts (default: one per core)",
        )

        # Listing and selection.
        parser.add_argument(
            "--since",
            type=_date,
            default=None,
            help="only articles updated on or after this date (YYYY-MM-DD)",
        )
        parser.add_argument(
            "--pmcids",
            type=_readable_file,
            default=None,
            help="a file of PMCIDs (one per line) to build instead of the listing",
        )
        parser.add_argument(
            "--all-versions",
            action="store_true",
            help="keep every version of an article, not only the newest",
        )
        parser.add_argument(
            "--limit",
            type=POSITIVE,
            default=None,
            help="only the first N articles of the listing (for trials; start with e.g. 1000)",
        )
        parser.add_argument(
            "--licenses",
            type=_non_empty_list,
            default="all",
            help="licence allowlist of normalised codes, comma separated, e.g. "
            "'CC0,CC BY' ('all' keeps every licence; default all)",
        )
        parser.add_argument(
            "--article-types",
            type=_non_empty_list,
            default="all",
            help="article-type allowlist, comma separated ('all': no rule)",
        )
        parser.add_argument(
            "--requests-per-second",
            type=_float_in(0.0, low_open=True),
            default=None,
            help="rate limit per worker process for HTTP roots (default: 3 for "
            "NCBI hosts, unlimited elsewhere)",
        )

        # Extract.
        parser.add_argument(
            "--chunk-size",
            type=POSITIVE,
            default=100,
            help="articles per staging chunk (the unit of resume; default 100)",
        )
        parser.add_argument(
            "--fetch-threads",
            type=_int_in(1, 256),
            default=8,
            help="concurrent article fetches inside a chunk (default 8)",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="extract again the articles whose fetch failed in earlier runs",
        )
        parser.add_argument(
            "--force-reextract",
            action="store_true",
            help="extract again every listed article that staging holds from a run with "
            "other extract options or parser/image versions (otherwise such a run is refused)",
        )
        parser.add_argument(
            "--max-side",
            type=_int_at_least(16),
            default=1024,
            help="longer side of the published JPEG; never upscaled (default 1024)",
        )
        parser.add_argument(
            "--jpeg-quality", type=_int_in(1, 100), default=95, help="JPEG quality (default 95)"
        )
        parser.add_argument(
            "--image-memory-mb",
            type=_int_at_least(64),
            default=None,
            help="memory that image decoding may hold at once per worker process, in MiB; "
            "a figure that alone needs more is image_failed (memory_budget) (default 1024)",
        )
        parser.add_argument(
            "--min-side",
            type=NON_NEGATIVE,
            default=None,
            help="drop images whose shorter side is below this (filters default)",
        )
        parser.add_argument(
            "--max-aspect-ratio",
            type=_float_in(1.0),
            default=None,
            help="drop images more elongated than this (filters default)",
        )
        parser.add_argument("--min-caption-tokens", type=NON_NEGATIVE, default=None)
        parser.add_argument("--max-caption-tokens", type=POSITIVE, default=None)
        parser.add_argument(
            "--figure-types",
            default="all",
            help="figure-type allowlist, comma separated, e.g. 'radiology,chart' (types read "
            "from the caption: radiology, light_microscopy, fluorescence_microscopy, "
            "electron_microscopy, gel_blot, chart, diagram, molecular_structure, photograph, "
            "other; 'all': no rule)",
        )
        parser.add_argument(
            "--include-tables",
            action="store_true",
            help="publish tables that exist only as images (default: drop them)",
        )

        # Assemble.
        parser.add_argument(
            "--near-dup-threshold",
            type=_int_in(0, 63),
            default=4,
            help="Hamming distance on the 64-bit perceptual hash up to which two "
            "images are near duplicates (default 4)",
        )
        parser.add_argument(
            "--no-near-dedupe",
            action="store_true",
            help="exact dedupe only (decontamination then matches pixels only)",
        )
        parser.add_argument(
            "--decontaminate",
            type=_readable_file,
            default=None,
            help="file of image hashes (e.g. of evaluation sets) to drop",
        )
        parser.add_argument(
            "--takedown",
            type=_readable_file,
            default=None,
            help="file of PMCIDs (retractions, takedowns) to remove from the output",
        )
        parser.add_argument(
            "--split",
            default="train=0.98,val=0.01,test=0.01",
            help="split fractions by article (default train=0.98,val=0.01,test=0.01)",
        )
        parser.add_argument(
            "--split-salt", default="", help="salt of the PMCID hash that assigns splits"
        )
        parser.add_argument(
            "--shard-size",
            type=POSITIVE,
            default=2000,
            help="samples per WebDataset shard (default 2000)",
        )
        parser.add_argument(
            "--max-failed-fraction",
            type=_float_in(0.0, 1.0),
            default=0.05,
            help="refuse to publish (exit 1; the previous publication stays) when more than "
            "this fraction of the articles failed to fetch or hit an internal error, both of "
            "which --retry-failed redoes (default 0.05)",
        )


def _beam_option_strings() -> set[str]:
    """Every option string Beam's registered PipelineOptions accept (ours excluded)."""
    # DaskRunner's options register only when its module is imported, which needs dask.
    try:
        import apache_beam.runners.dask.dask_runner  # noqa: F401
    except ImportError:  # no dask extra: its options are still Beam's, not typos
        known_without_dask = set(DASK_OPTIONS)
    else:
        known_without_dask = set()

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    seen = set()
    stack = list(PipelineOptions.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls in seen or cls is BuildOptions:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        try:
            cls._add_argparse_args(parser)  # type: ignore[arg-type]  # any argparse parser
        except argparse.ArgumentError:
            pass  # an option two classes both declare: already known
    return {s for action in parser._actions for s in action.option_strings} | known_without_dask


# Beam's DaskOptions (apache_beam/runners/dask/dask_runner.py), for when dask is not installed.
DASK_OPTIONS = (
    "--dask_client_address",
    "--dask_connection_timeout",
    "--dask_scheduler_file",
    "--dask_client_name",
    "--dask_connection_limit",
    "--dask_npartitions",
    "--dask_partition_size",
)


def _own_parser() -> _StrictParser:
    parser = _StrictParser(prog="pmc-pipeline build", add_help=False, allow_abbrev=False)
    BuildOptions._add_argparse_args(parser)
    return parser


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options (checked) and Beam's arguments (every other known option, unchanged).
    Raises OptionError for a bad value, a missing value, or an option nobody knows."""
    parser = _own_parser()
    ours, rest = parser.parse_known_args(argv)
    beam_known = _beam_option_strings()
    for arg in rest:
        if not arg.startswith("--"):
            if arg.startswith("-") and len(arg) > 1 and not _is_number(arg):
                raise OptionError(f"unknown option {arg}")
            continue  # the value of a Beam option
        name = arg.split("=", 1)[0]
        if name not in beam_known:
            raise OptionError(_unknown(name, parser, beam_known))
    return ours, rest


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unknown(name: str, parser: argparse.ArgumentParser, beam_known: set[str]) -> str:
    own = {s for action in parser._actions for s in action.option_strings}
    close = difflib.get_close_matches(name, sorted(own | beam_known), n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown option {name}{hint}"
