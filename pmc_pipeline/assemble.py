"""Assemble: from all staging chunks to the published decisions (dedupe -> decontaminate ->
split -> shard), with no network and no image decoding.

Each function here decides one thing for one group of records, so the Beam job can apply it
per key after a GroupByKey and the plain loop can apply it to everything at once; both get
the same answer because nothing here depends on the order records arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pmc_pipeline.model import ArticleStatus, FigureStatus, normalize_pmcid
from pmc_pipeline.split import DEFAULT_FRACTIONS, assign_split


@dataclass(frozen=True)
class AssembleOptions:
    all_versions: bool = False  # publish every version of an article, not only the newest
    takedown: frozenset[str] = frozenset()  # PMCIDs ('PMC123') or versions ('PMC123.2') to remove
    decontaminate: frozenset[str] = frozenset()  # image hashes to drop (see dedupe.load_hash_list)
    near_threshold: int | None = 4  # Hamming distance on the 64-bit phash; None: exact only
    fractions: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FRACTIONS))
    split_salt: str = ""
    shard_size: int = 2000  # samples per WebDataset shard (about 0.5 GB at 1024 px)
    # Rows per Parquet part of the figures/articles tables (parts by key hash, each sorted by
    # key): publish holds one part's rows, so this bounds its memory (about 23 MB of Arrow
    # for 25,000 synthetic figure rows; real captions are longer) however large the build.
    table_rows_per_file: int = 25_000


# --- articles -----------------------------------------------------------------------------


def newest_record(records: Iterable[Mapping]) -> dict:
    """Of the staged records of one article key, the one from the newest generation."""
    return dict(max(records, key=lambda r: r["generation"]))


def published_versions(records: Iterable[Mapping], all_versions: bool) -> list[dict]:
    """Of the records of one PMCID (one per version), those that are published: the newest
    version only, unless all versions are asked for. Older versions are superseded, not
    listed: the build describes the collection as it is now."""
    records = sorted(records, key=lambda r: (r["version"] or 0, r["article_key"]))
    return [dict(r) for r in (records if all_versions else records[-1:])]


def choose_records(records: Iterable[Mapping], all_versions: bool) -> list[dict]:
    """Of every staged record of one PMCID (any version, any generation), the published
    ones: each version's newest generation, then its newest version (or all versions)."""
    newest: dict[str, dict] = {}
    for record in records:
        current = newest.get(record["article_key"])
        if current is None or record["generation"] > current["generation"]:
            newest[record["article_key"]] = dict(record)
    return published_versions(newest.values(), all_versions)


def load_takedown(lines: Iterable[str]) -> frozenset[str]:
    """A takedown/retraction list: one PMCID ('PMC123', '123') or version ('PMC123.2') per
    line; blank lines and '#' comments ignored."""
    out = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            pmcid, version = normalize_pmcid(line)
            out.add(f"{pmcid}.{version}" if version is not None else pmcid)
    return frozenset(out)


def finalize_article(article: Mapping, opts: AssembleOptions) -> dict:
    """Set the article's split and apply the takedown list."""
    article = dict(article)
    article["split"] = assign_split(article["pmcid"], opts.fractions, opts.split_salt)
    versioned = f"{article['pmcid']}.{article['version']}"
    if article["pmcid"] in opts.takedown or versioned in opts.takedown:
        article["status"], article["reason"] = ArticleStatus.REMOVED, "takedown"
        article["reason_detail"] = None
    return article


def article_figures(article: Mapping, figures: Iterable[Mapping]) -> list[dict]:
    """The figure rows that belong to the published record of an article: those staged with
    it (same generation); all marked removed when the article was taken down."""
    rows = [dict(f) for f in figures if f["generation"] == article["generation"]]
    if article["status"] == ArticleStatus.REMOVED:
        for row in rows:
            row["status"], row["reason"] = FigureStatus.REMOVED, "article_removed"
            row["reason_detail"] = None
            row["jpeg_offset"] = None  # its image is never read again
    return rows


# --- figures --------------------------------------------------------------------------------


def apply_decision(figure: Mapping, decision: tuple[str, str | None, str | None] | None) -> dict:
    """A candidate's final row given its dedupe/decontamination decision (None = kept)."""
    row = dict(figure)
    if decision is not None:
        row["status"], row["reason"], row["duplicate_of"] = decision
        row["reason_detail"] = None
    return row


def finalize_figure(figure: Mapping, article: Mapping) -> dict:
    """Published figure row: the split is recorded for kept samples only."""
    row = dict(figure)
    row["split"] = article["split"] if row["status"] == FigureStatus.KEPT else None
    return row


def count_kept(figures: Iterable[Mapping]) -> int:
    return sum(1 for f in figures if f["status"] == FigureStatus.KEPT)


def is_candidate(figure: Mapping) -> bool:
    return figure["status"] == FigureStatus.KEPT
