"""Duplicate clusters: a kept figure and the figures removed as copies of it.

Dedupe names the kept figure in every removed one's `duplicate_of` (dedupe.py follows
chains, so it is always a kept figure): a cluster is that figure plus everything pointing
at it, exact duplicates (same decoded pixels) and near duplicates (phash within the
threshold) alike. The card shows a few clusters side by side, near duplicates first, since
they are the ones whose threshold a reader wants to judge by eye.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pmc_pipeline.model import FigureStatus
from pmc_pipeline.outputs import Output
from pmc_pipeline.report.data import by_key, read_figures, read_pairs, read_removed_duplicates
from pmc_pipeline.report.jpegs import published_jpegs, staged_jpegs

DEFAULT_CLUSTERS = 12


@dataclass(frozen=True)
class Cluster:
    kept_key: str
    kept: Mapping | None  # the kept figure's row (None if the figures table lacks it)
    removed: list[Mapping]  # the rows pointing at it, by key

    @property
    def has_near_duplicate(self) -> bool:
        return any(r["status"] == FigureStatus.NEAR_DUPLICATE for r in self.removed)


@dataclass(frozen=True)
class ClusterSummary:
    clusters: int  # clusters in the build
    removed: dict[str, int]  # figures removed in them, by status
    shown: list[Cluster]


def group_clusters(removed: Iterable[Mapping]) -> dict[str, list[Mapping]]:
    """{kept key: rows removed as its duplicates, by key}."""
    groups: dict[str, list[Mapping]] = defaultdict(list)
    for row in removed:
        groups[row["duplicate_of"]].append(row)
    return {kept: sorted(rows, key=lambda r: r["key"]) for kept, rows in groups.items()}


def choose(groups: Mapping[str, list[Mapping]], limit: int) -> list[str]:
    """The kept keys of the clusters to show: those with near duplicates first, then the
    largest, then by key (a stable order for a stable card)."""

    def rank(kept: str) -> tuple[bool, int, str]:
        rows = groups[kept]
        near = any(r["status"] == FigureStatus.NEAR_DUPLICATE for r in rows)
        return (not near, -len(rows), kept)

    return sorted(groups, key=rank)[:limit]


def phash_distance(a: str | None, b: str | None) -> int | None:
    """Hamming distance of two 64-bit phashes in hex (None when either is unreadable)."""
    if a is None or b is None:
        return None
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except (TypeError, ValueError):
        return None


def read_clusters(output: Output, limit: int) -> tuple[ClusterSummary, dict[str, bytes]]:
    """The build's clusters (counted) and the `limit` shown, with the JPEGs of their figures:
    removed ones from staging, kept ones from staging or else from their shard."""
    groups = group_clusters(read_removed_duplicates(output))
    shown_keys = choose(groups, limit)
    kept_rows = by_key(read_figures(output, shown_keys))
    shown = [Cluster(k, kept_rows.get(k), groups[k]) for k in shown_keys]
    removed_by_status: dict[str, int] = defaultdict(int)
    for rows in groups.values():
        for row in rows:
            removed_by_status[row["status"]] += 1
    wanted = shown_keys + [r["key"] for c in shown for r in c.removed]
    jpegs = staged_jpegs(output, wanted)
    missing_kept = [k for k in shown_keys if k not in jpegs]
    if missing_kept:
        jpegs.update(published_jpegs(output, read_pairs(output, missing_kept)))
    summary = ClusterSummary(len(groups), dict(sorted(removed_by_status.items())), shown)
    return summary, jpegs
