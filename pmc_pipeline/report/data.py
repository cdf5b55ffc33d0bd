"""Reading a finished build for its data card: stats.json and the published Parquet tables.

Everything goes through pmc_pipeline.outputs.Output, so a card can be made from a local
build or from one on s3:// / gs://. Each reader asks for only the columns (and, for the
figures table, only the rows) the card needs, so the card of a full-size build does not
load the captions and mentions of millions of figures into memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pmc_pipeline.manifest import STATS_FILE
from pmc_pipeline.model import FigureStatus
from pmc_pipeline.outputs import Output
from pmc_pipeline.publish import NotPublished, check_complete
from pmc_pipeline.records import arrow_schemas

PAIRS = "parquet/pairs"
FIGURES = "parquet/figures"

# Statuses of figures removed because another (kept) figure has the same image.
DUPLICATE_STATUSES = (FigureStatus.DUPLICATE, FigureStatus.NEAR_DUPLICATE)

# What the charts and the gallery's sampling read of every pair; mentions are reduced to
# their count while scanning, so the sentences themselves are never held.
PAIR_OVERVIEW = {
    **{
        name: pc.field(name)
        for name in (
            "key",
            "split",
            "shard",
            "caption_tokens",
            "width",
            "height",
            "license",
            "year",
            "journal",
            "placement",
            "figure_types",
            "compound",
        )
    },
    "n_mentions": pc.list_value_length(pc.field("mentions")),
}
# What a gallery card shows of a sampled pair.
PAIR_DETAIL = [
    "key",
    "split",
    "shard",
    "pmcid",
    "title",
    "journal",
    "year",
    "license",
    "label",
    "caption",
    "width",
    "height",
]
# What a near-duplicate cluster shows of each of its figures.
FIGURE_DETAIL = [
    "key",
    "pmcid",
    "label",
    "caption",
    "status",
    "reason",
    "duplicate_of",
    "phash",
    "width",
    "height",
    "split",
]


class ReportError(Exception):
    """The output cannot be reported on (not a finished build); the message says why."""


# What the card reads of stats.json; a file without them is not a build's stats.
STATS_KEYS = ("articles", "figures", "pairs", "pairs_per_split", "shards", "identity")


def load_stats(output: Output) -> dict:
    path = output.path(STATS_FILE)
    try:
        check_complete(output)
    except NotPublished as exc:
        raise ReportError(str(exc)) from None
    try:
        stats = output.read_json(STATS_FILE)
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
        raise ReportError(f"{path} cannot be read as JSON ({exc}): is the build damaged?") from None
    missing = [k for k in STATS_KEYS if not isinstance(stats, dict) or k not in stats]
    if missing:
        raise ReportError(f"{path} is not a build's stats (no {', '.join(missing)})")
    return stats


def _dataset(output: Output, relpath: str, schema_name: str) -> ds.Dataset:
    """The Parquet files under OUTPUT/relpath as one dataset. Files are listed explicitly
    (not discovered) so that a '.parquet.tmp' left by a crashed writer is never read, and
    the published schema is given so that an empty table still has its columns."""
    files = [output.path(p) for p in output.glob_files(relpath, ".parquet")]
    return ds.dataset(
        files, schema=arrow_schemas()[schema_name], format="parquet", filesystem=output.fs
    )


def read_pair_overview(output: Output) -> pa.Table:
    """Every pair, with the PAIR_OVERVIEW columns."""
    return _dataset(output, PAIRS, "pair").to_table(columns=PAIR_OVERVIEW)


def read_pairs(output: Output, keys: Iterable[str]) -> list[dict]:
    """The PAIR_DETAIL of the pairs with these keys, sorted by key."""
    return _rows(_dataset(output, PAIRS, "pair"), PAIR_DETAIL, pc.field("key").isin(list(keys)))


def read_figure_statuses(output: Output) -> pa.Table:
    """Every figure seen: its placement and status."""
    return _dataset(output, FIGURES, "figure").to_table(columns=["placement", "status"])


def read_removed_duplicates(output: Output) -> list[dict]:
    """The FIGURE_DETAIL of every figure removed as a duplicate of a kept one."""
    removed = (
        pc.field("status").isin(list(DUPLICATE_STATUSES)) & pc.field("duplicate_of").is_valid()
    )
    return _rows(_dataset(output, FIGURES, "figure"), FIGURE_DETAIL, removed)


def read_figures(output: Output, keys: Iterable[str]) -> list[dict]:
    """The FIGURE_DETAIL of the figures with these keys, sorted by key."""
    dataset = _dataset(output, FIGURES, "figure")
    return _rows(dataset, FIGURE_DETAIL, pc.field("key").isin(list(keys)))


def _rows(dataset: ds.Dataset, columns: list[str], where: pc.Expression) -> list[dict]:
    table = dataset.to_table(columns=columns, filter=where)
    return table.sort_by("key").to_pylist()


def value_counts(column: pa.ChunkedArray | pa.Array) -> dict:
    """{value: count} of a column, None for nulls, in no particular order."""
    counts = pc.value_counts(column)
    return dict(
        zip(
            counts.field("values").to_pylist(),
            counts.field("counts").to_pylist(),
            strict=True,
        )
    )


def by_key(rows: Iterable[Mapping]) -> dict[str, Mapping]:
    return {row["key"]: row for row in rows}
