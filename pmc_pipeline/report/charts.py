"""What each chart of the card shows, computed from the Parquet tables.

A chart is plain data (labels and counts, or the values of a distribution); plots.py draws
it and html.py prints the same numbers as a table under the picture, so a reader (and the
tests) can check a plot against the Parquet tables without reading pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pmc_pipeline.captions import FIGURE_TYPES
from pmc_pipeline.model import FigureStatus
from pmc_pipeline.report.data import value_counts

UNKNOWN = "unknown"  # the label of a null licence, journal or year
TOP_JOURNALS = 15
MAX_MENTIONS = 10  # figures cited this often or more share the last bar


@dataclass(frozen=True)
class Bars:
    """Counts per label; several series are stacked (one colour each)."""

    name: str
    title: str
    axis: str  # what is counted, e.g. 'pairs'
    labels: list[str]
    series: dict[str, list[int]]
    horizontal: bool = False
    note: str = ""

    def table(self) -> tuple[list[str], list[list]]:
        names = list(self.series)
        header = ["", *names] + (["total"] if len(names) > 1 else [])
        rows = []
        for i, label in enumerate(self.labels):
            values = [self.series[name][i] for name in names]
            rows.append([label, *values] + ([sum(values)] if len(names) > 1 else []))
        return header, rows


@dataclass(frozen=True)
class Distribution:
    """The values of one or more numeric columns, drawn as overlaid histograms."""

    name: str
    title: str
    axis: str  # the x axis, with its unit
    series: dict[str, np.ndarray]
    log: bool = False  # logarithmic bins and x axis (for values spanning decades)
    markers: dict[str, float] = field(default_factory=dict)  # filter thresholds, as lines
    note: str = ""

    def table(self) -> tuple[list[str], list[list]]:
        header = ["", "count", "min", "median", "mean", "p95", "max"]
        rows = []
        for name, values in self.series.items():
            if len(values):
                stats = [
                    values.min(),
                    np.median(values),
                    values.mean(),
                    np.percentile(values, 95),
                    values.max(),
                ]
            else:
                stats = [None] * 5
            rows.append([name, len(values), *stats])
        return header, rows


Chart = Bars | Distribution


def _values(table: pa.Table, column: str, dtype=np.float64) -> np.ndarray:
    """The non-null values of a column as a numpy array."""
    return table.column(column).drop_null().to_numpy().astype(dtype)


def _sorted_counts(counts: Mapping) -> list[tuple[str, int]]:
    """(label, count), largest first, ties by label; nulls labelled UNKNOWN and last."""
    known = sorted(((str(k), n) for k, n in counts.items() if k is not None), key=_by_count)
    return known + ([(UNKNOWN, counts[None])] if counts.get(None) else [])


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def pairs_per_split(pairs: pa.Table) -> Bars:
    labels, counts = _unzip(_sorted_counts(value_counts(pairs.column("split"))))
    return Bars("pairs_per_split", "Pairs per split", "pairs", labels, {"pairs": counts})


def caption_tokens(pairs: pa.Table, filters: Mapping) -> Distribution:
    markers = {
        "min_caption_tokens": filters.get("min_caption_tokens"),
        "max_caption_tokens": filters.get("max_caption_tokens"),
    }
    return Distribution(
        "caption_tokens",
        "Caption length",
        "words per caption (filters.caption_tokens)",
        {"captions": _values(pairs, "caption_tokens")},
        log=True,
        markers={k: v for k, v in markers.items() if v},
    )


def image_sizes(pairs: pa.Table, max_side: int | None) -> Distribution:
    return Distribution(
        "image_size",
        "Published image width and height",
        "pixels",
        {"width": _values(pairs, "width"), "height": _values(pairs, "height")},
        markers={"max_side": max_side} if max_side else {},
    )


def aspect_ratios(pairs: pa.Table, max_aspect_ratio: float | None) -> Distribution:
    sized = pairs.filter(pc.field("width").is_valid() & pc.field("height").is_valid())
    ratio = _values(sized, "width") / np.maximum(_values(sized, "height"), 1)
    markers = {}
    if max_aspect_ratio:  # the filter bounds longer/shorter side, so both ways
        markers = {
            "1 / max_aspect_ratio": 1 / max_aspect_ratio,
            "max_aspect_ratio": max_aspect_ratio,
        }
    return Distribution(
        "aspect_ratio",
        "Aspect ratio",
        "width / height (log scale)",
        {"pairs": ratio},
        log=True,
        markers=markers,
    )


def licenses(pairs: pa.Table) -> Bars:
    labels, counts = _unzip(_sorted_counts(value_counts(pairs.column("license"))))
    return Bars("license", "License mix", "pairs", labels, {"pairs": counts}, horizontal=True)


def years(pairs: pa.Table) -> Bars:
    counts = value_counts(pairs.column("year"))
    known = sorted((y, n) for y, n in counts.items() if y is not None)
    labels = [str(y) for y, _ in known] + ([UNKNOWN] if counts.get(None) else [])
    values = [n for _, n in known] + ([counts[None]] if counts.get(None) else [])
    return Bars("year", "Publication year", "pairs", labels, {"pairs": values})


def journals(pairs: pa.Table, top: int = TOP_JOURNALS) -> Bars:
    ranked = _sorted_counts(value_counts(pairs.column("journal")))
    named = [item for item in ranked if item[0] != UNKNOWN]
    shown = named[:top]
    others = named[top:]
    if others:
        shown.append((f"{len(others)} other journals", sum(n for _, n in others)))
    shown += [item for item in ranked if item[0] == UNKNOWN]
    labels, counts = _unzip(shown)
    return Bars(
        "journal",
        f"Top {top} journals" if others else "Journals",
        "pairs",
        labels,
        {"pairs": counts},
        horizontal=True,
        note=f"{len(named)} journals in all",
    )


def placements(figures: pa.Table) -> Bars:
    """Figures seen per placement, split into kept and not kept (from the figures table:
    where figures sit in the JATS, and which placements lose the most)."""
    kept_mask = pc.equal(figures.column("status"), FigureStatus.KEPT)
    seen = value_counts(figures.column("placement"))
    kept = value_counts(figures.filter(kept_mask).column("placement"))
    labels, totals = _unzip(_sorted_counts(seen))
    kept_counts = [kept.get(label, 0) for label in labels]
    return Bars(
        "placement",
        "Figure placements",
        "figures seen",
        labels,
        {
            "kept": kept_counts,
            "not kept": [t - k for t, k in zip(totals, kept_counts, strict=True)],
        },
        horizontal=True,
    )


def mentions(pairs: pa.Table, cap: int = MAX_MENTIONS) -> Bars:
    counts = np.bincount(np.minimum(_values(pairs, "n_mentions", np.int64), cap), minlength=cap + 1)
    labels = [str(i) for i in range(cap)] + [f"{cap}+"]
    shown = max(np.flatnonzero(counts)[-1] + 1 if counts.any() else 1, 4)  # no empty tail
    labels, counts = labels[:shown], counts[:shown]
    return Bars(
        "mentions",
        "Mentions per figure",
        "pairs",
        labels,
        {"pairs": [int(n) for n in counts]},
        note="body sentences citing the figure",
    )


# The bar of the pairs whose caption names no kind of figure (no type: docs/captions.md).
UNTYPED = "no type named"


def figure_types(pairs: pa.Table) -> Bars:
    """Pairs per figure type (read from the caption), single-panel and compound apart. A
    figure has one or more types, or none when its caption names none, so a pair counts
    under each of its types or under UNTYPED."""
    single = dict.fromkeys((*FIGURE_TYPES, UNTYPED), 0)
    compound = dict.fromkeys((*FIGURE_TYPES, UNTYPED), 0)
    for batch in pairs.select(["figure_types", "compound"]).to_batches():
        types, flags = batch.column(0).to_pylist(), batch.column(1).to_pylist()
        for names, is_compound in zip(types, flags, strict=True):
            counts = compound if is_compound else single
            for name in names or (UNTYPED,):
                counts[name] = counts.get(name, 0) + 1
    labels = list(single)
    total = pairs.num_rows
    n_compound = pc.sum(pc.cast(pairs.column("compound"), pa.int64())).as_py() or 0
    return Bars(
        "figure_types",
        "Figure types",
        "pairs",
        labels,
        {"single panel": [single[t] for t in labels], "compound": [compound[t] for t in labels]},
        horizontal=True,
        note=f"Types are read from the caption (docs/captions.md); a figure can have several, "
        f"so the bars add up to more than the {total:,} pairs, and a caption that names no "
        f"kind of figure gives none ('{UNTYPED}'). {n_compound:,} pairs are compound (two or "
        "more panels).",
    )


def all_charts(pairs: pa.Table, figures: pa.Table, options: Mapping) -> list[Chart]:
    """Every chart of the card, in the order it shows them."""
    filters = options.get("filters", {})
    return [
        pairs_per_split(pairs),
        caption_tokens(pairs, filters),
        image_sizes(pairs, options.get("max_side")),
        aspect_ratios(pairs, filters.get("max_aspect_ratio")),
        licenses(pairs),
        years(pairs),
        journals(pairs),
        placements(figures),
        mentions(pairs),
        figure_types(pairs),
    ]


def _unzip(items: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [label for label, _ in items], [int(n) for _, n in items]
