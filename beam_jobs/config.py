"""BuildConfig: the parsed build options as plain library objects (picklable, no Beam), which
the transforms carry to the workers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import asdict, dataclass, field

from beam_jobs.options import OptionError
from pmc_pipeline.assemble import AssembleOptions, load_takedown
from pmc_pipeline.dedupe import load_hash_list
from pmc_pipeline.extract import ExtractOptions
from pmc_pipeline.filters import FilterOptions
from pmc_pipeline.model import Layout
from pmc_pipeline.sources import open_source
from pmc_pipeline.sources.base import Source
from pmc_pipeline.split import parse_fractions

DEFAULT_ROOTS = {Layout.CLOUD: "s3://pmc-oa-opendata"}


@dataclass(frozen=True)
class SourceSpec:
    """How a worker opens the PMC root (each worker opens its own clients)."""

    layout: str
    root: str
    options: dict = field(default_factory=dict)

    def open(self) -> Source:
        return open_source(self.layout, self.root, **self.options)


@dataclass(frozen=True)
class ListingSpec:
    since: dt.date | None = None
    pmcids_file: str | None = None
    all_versions: bool = False
    limit: int | None = None


@dataclass(frozen=True)
class BuildConfig:
    source: SourceSpec
    listing: ListingSpec
    extract: ExtractOptions
    assemble: AssembleOptions
    output: str
    chunk_size: int = 100
    fetch_threads: int = 8
    retry_failed: bool = False
    force_reextract: bool = False
    max_failed_fraction: float = 0.05

    def options_for_stats(self) -> dict:
        """The options that shape the output, recorded in stats.json."""
        filters = asdict(self.extract.filters)
        return {
            "layout": self.source.layout,
            "root": self.source.root,
            "since": self.listing.since.isoformat() if self.listing.since else None,
            "all_versions": self.listing.all_versions,
            "limit": self.listing.limit,
            "max_side": self.extract.max_side,
            "jpeg_quality": self.extract.jpeg_quality,
            "filters": {
                k: (sorted(v) if isinstance(v, (set, frozenset)) else v) for k, v in filters.items()
            },
            "near_dup_threshold": self.assemble.near_threshold,
            "decontaminate_hashes": len(self.assemble.decontaminate),
            "takedown": len(self.assemble.takedown),
            "split": dict(self.assemble.fractions),
            "split_salt": self.assemble.split_salt,
            "shard_size": self.assemble.shard_size,
        }


def _csv(value: str | None) -> frozenset[str] | None:
    if value is None or value.strip().lower() in ("", "all"):
        return None
    return frozenset(v.strip() for v in value.split(",") if v.strip())


def _read_lines(path: str | None) -> list[str]:
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def config_from_options(o) -> BuildConfig:
    """Parsed BuildOptions (see beam_jobs/options.py) -> BuildConfig; raises OptionError with a
    one-line message for a missing or malformed option."""
    if not o.output:
        raise OptionError("--output is required (a local path, s3:// or gs://)")
    root = o.root or DEFAULT_ROOTS.get(o.layout)
    if not root:
        raise OptionError(f"--root is required for the {o.layout} layout")
    if (
        o.min_caption_tokens is not None
        and o.max_caption_tokens is not None
        and o.min_caption_tokens > o.max_caption_tokens
    ):
        raise OptionError(
            f"--min-caption-tokens {o.min_caption_tokens} is above "
            f"--max-caption-tokens {o.max_caption_tokens}"
        )
    source_options = {}
    if o.requests_per_second is not None:
        source_options["requests_per_second"] = o.requests_per_second
    filter_overrides = {
        name: value
        for name, value in {
            "min_side": o.min_side,
            "max_aspect_ratio": o.max_aspect_ratio,
            "min_caption_tokens": o.min_caption_tokens,
            "max_caption_tokens": o.max_caption_tokens,
        }.items()
        if value is not None
    }
    try:
        filters = FilterOptions(
            licenses=_csv(o.licenses),
            article_types=_csv(o.article_types),
            include_tables=o.include_tables,
            **filter_overrides,
        )
    except ValueError as exc:  # an unknown licence code
        raise OptionError(f"--licenses: {exc}") from None
    try:
        filters = dataclasses.replace(filters, figure_types=_csv(o.figure_types))
    except ValueError as exc:  # an unknown figure type: the taxonomy is listed
        raise OptionError(f"--figure-types: {exc}") from None
    try:
        fractions = parse_fractions(o.split)
    except ValueError as exc:
        raise OptionError(f"--split: {exc}") from None
    try:
        takedown = load_takedown(_read_lines(o.takedown))
    except ValueError as exc:
        raise OptionError(f"--takedown {o.takedown}: {exc}") from None
    try:
        decontaminate = load_hash_list(o.decontaminate) if o.decontaminate else frozenset()
    except ValueError as exc:
        raise OptionError(f"--decontaminate {o.decontaminate}: {exc}") from None
    return BuildConfig(
        source=SourceSpec(o.layout, root, source_options),
        listing=ListingSpec(o.since, o.pmcids, o.all_versions, o.limit),
        extract=ExtractOptions(
            filters=filters,
            max_side=o.max_side,
            jpeg_quality=o.jpeg_quality,
            **({"memory_budget": o.image_memory_mb << 20} if o.image_memory_mb else {}),
        ),
        assemble=AssembleOptions(
            all_versions=o.all_versions,
            takedown=takedown,
            decontaminate=decontaminate,
            near_threshold=None if o.no_near_dedupe else o.near_dup_threshold,
            fractions=fractions,
            split_salt=o.split_salt,
            shard_size=o.shard_size,
        ),
        output=o.output,
        chunk_size=o.chunk_size,
        fetch_threads=o.fetch_threads,
        retry_failed=o.retry_failed,
        force_reextract=o.force_reextract,
        max_failed_fraction=o.max_failed_fraction,
    )
