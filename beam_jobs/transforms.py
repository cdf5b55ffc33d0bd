"""The build's DoFns and PTransforms. Each is a thin wrapper: the decision it applies is a
library function from pmc_pipeline, called on one element or one group."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import apache_beam as beam
from apache_beam.metrics import Metrics

from pmc_pipeline import assemble, dedupe, manifest, records, shards, staging
from pmc_pipeline.extract import extract_article
from pmc_pipeline.model import FigureStatus
from pmc_pipeline.outputs import Output
from pmc_pipeline.sources import read_pmcid_file

log = logging.getLogger("pmc_pipeline.build")

# Staging figure columns that assemble reads: the published fields and where the JPEG is
# (the JPEG itself is read only for kept samples, by the shard writer).
FIGURE_COLUMNS = [*records.FIGURE_FIELDS, "generation", "chunk", "jpeg_offset"]


# --- extract ------------------------------------------------------------------------------


class ListArticles(beam.DoFn):
    """The listing (inventory, metadata/ listing, file lists, or a PMCID file), in its own
    deterministic order; one worker, since a listing is a sequential read."""

    def __init__(self, source_spec, listing):
        self.source_spec, self.listing = source_spec, listing

    def process(self, _):
        source = self.source_spec.open()
        pmcids = read_pmcid_file(self.listing.pmcids_file) if self.listing.pmcids_file else None
        refs = source.list_articles(
            since=self.listing.since, pmcids=pmcids, all_versions=self.listing.all_versions
        )
        listed = Metrics.counter(*LISTED)
        for i, ref in enumerate(refs):
            if self.listing.limit is not None and i >= self.listing.limit:
                break
            listed.inc()
            yield ref


class ReadStaging(beam.DoFn):
    """The rows of one staging file of a chunk."""

    def __init__(self, output_uri: str, filename: str, columns: list[str] | None = None):
        self.output_uri, self.filename, self.columns = output_uri, filename, columns

    def setup(self):
        self.output = Output(self.output_uri)

    def process(self, chunk: str):
        yield from staging.read_rows(
            self.output, staging.chunk_path(chunk, self.filename), self.columns
        )


# Extract's own accounting: every article listed is either skipped (already staged) or
# staged by this run; build_dataset checks listed == skipped + staged after the pipeline.
LISTED, SKIPPED, STAGED = ("list", "articles"), ("extract", "skipped"), ("extract", "articles")


def refs_to_extract(element, retry_failed: bool):
    """The listed refs of one article key that this run must extract (the resume rule)."""
    _, grouped = element
    done = staging.latest_done(grouped["done"]).popitem()[1] if grouped["done"] else None
    for ref in grouped["ref"]:
        if staging.needs_extract(ref, done, retry_failed):
            yield ref
        else:
            Metrics.counter(*SKIPPED).inc()


def assign_chunk(ref, generation: int, chunk_size: int, n_todo: int):
    n_chunks = staging.chunk_count(n_todo, chunk_size)
    return staging.chunk_id(generation, ref.key, n_chunks), ref


class ExtractChunk(beam.DoFn):
    """Extract every article of a chunk (fetches overlap in a thread pool: the work is mostly
    waiting on the network) and write the chunk to staging, marker last."""

    def __init__(self, source_spec, extract_options, output_uri: str, threads: int):
        self.source_spec, self.opts = source_spec, extract_options
        self.output_uri, self.threads = output_uri, threads
        self.articles = Metrics.counter(*STAGED)
        self.figures = Metrics.counter("extract", "figures")
        self.candidates = Metrics.counter("extract", "candidates")

    def setup(self):
        self.source = self.source_spec.open()
        self.output = Output(self.output_uri)

    def process(self, element):
        chunk, refs = element
        refs = sorted(refs, key=lambda r: r.key)
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            results = list(pool.map(lambda ref: extract_article(ref, self.source, self.opts), refs))
        marker = staging.write_chunk(self.output, chunk, results)
        self.articles.inc(marker["articles"])
        self.figures.inc(marker["figures"])
        self.candidates.inc(marker["figure_status"].get(FigureStatus.KEPT, 0))
        log.info(
            "chunk %s staged: %d articles %s, %d figures %s",
            chunk,
            marker["articles"],
            marker["article_status"],
            marker["figures"],
            marker["figure_status"],
        )
        yield marker


# --- assemble: articles -------------------------------------------------------------------


class ChooseArticles(beam.PTransform):
    """Staged article rows -> the published record of each article (newest generation, newest
    version unless all versions are asked for, split set, takedowns removed)."""

    def __init__(self, opts: assemble.AssembleOptions):
        super().__init__()
        self.opts = opts

    def expand(self, rows):
        return (
            rows
            | "ByKey" >> beam.Map(lambda r: (r["article_key"], r))
            | "GroupKey" >> beam.GroupByKey()
            | "Newest" >> beam.MapTuple(lambda _, rs: assemble.newest_record(rs))
            | "ByPmcid" >> beam.Map(lambda r: (r["pmcid"], r))
            | "GroupPmcid" >> beam.GroupByKey()
            | "Versions"
            >> beam.FlatMapTuple(
                lambda _, rs: assemble.published_versions(rs, self.opts.all_versions)
            )
            | "Finalize" >> beam.Map(assemble.finalize_article, self.opts)
        )


def figures_of_article(element):
    """(article_key, {article, figures}) -> (figure row, article) for the published record;
    figures of superseded versions or generations are dropped here."""
    _, grouped = element
    if not grouped["article"]:
        return
    article = grouped["article"][0]
    for figure in assemble.article_figures(article, grouped["figures"]):
        yield figure, article


def with_n_kept(element):
    _, grouped = element
    for article in grouped["article"]:
        yield {**article, "n_kept": sum(grouped["kept"])}


# --- assemble: dedupe ---------------------------------------------------------------------


class Dedupe(beam.PTransform):
    """(figure, article) pairs -> the same pairs with final statuses.

    The stages of pmc_pipeline.dedupe, spread out: decontamination (per item, against a small
    hash list), exact dedupe (group by pixel hash), same-phash collapse (group by phash), near
    duplicates (LSH bands -> per-bucket edges -> one global resolution over the comparatively
    few edges), then each candidate's decision from the chained maps, as dedupe.decisions
    computes it in one process."""

    def __init__(self, opts: assemble.AssembleOptions):
        super().__init__()
        self.opts = opts

    def expand(self, pairs):
        opts = self.opts
        candidates = (
            pairs
            | "Candidates" >> beam.Filter(lambda p: assemble.is_candidate(p[0]))
            | "Items" >> beam.Map(lambda p: dedupe.item_of(p[0]))
        )
        contaminated = candidates | "Decontaminate" >> beam.FlatMap(_contamination, opts)
        clean = candidates | "Clean" >> beam.Filter(
            lambda item: (
                dedupe.contamination_reason(item, opts.decontaminate, opts.near_threshold) is None
            )
        )
        # (key, canonical item of its exact group) for every clean candidate.
        exact = (
            clean
            | "ByPixels" >> beam.Map(lambda item: (item.pixel_sha256, item))
            | "GroupPixels" >> beam.GroupByKey()
            | "Collapse" >> beam.FlatMapTuple(_collapse_group)
        )
        survivors = (
            exact | "Survivors" >> beam.Filter(lambda kv: kv[0] == kv[1].key) | beam.Values()
        )
        if opts.near_threshold is None:
            same_phash_of = near_of = pipeline_empty(pairs.pipeline, "NoNear")
        else:
            same_phash = (
                survivors
                | "ByPhash" >> beam.Map(lambda item: (item.phash, item))
                | "GroupPhash" >> beam.GroupByKey()
                | "CollapsePhash" >> beam.FlatMapTuple(_collapse_group)
            )
            same_phash_of = same_phash | "PhashDropped" >> beam.Filter(
                lambda kv: kv[0] != kv[1].key
            )
            representatives = (
                same_phash
                | "Representatives" >> beam.Filter(lambda kv: kv[0] == kv[1].key)
                | "Reps" >> beam.Values()
            )
            near_of = representatives | "Near" >> NearDuplicates(opts.near_threshold)
        decided = exact | "Decide" >> beam.Map(
            _decide,
            same_phash_of=beam.pvalue.AsDict(
                same_phash_of | "PhashKeys" >> beam.MapTuple(lambda k, item: (k, item.key))
            ),
            near_of=beam.pvalue.AsDict(near_of),
        )
        decisions = (contaminated, decided) | "AllDecisions" >> beam.Flatten()
        return (
            {
                "pair": pairs | "KeyPairs" >> beam.Map(lambda p: (p[0]["key"], p)),
                "decision": decisions,
            }
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Apply" >> beam.FlatMap(_apply_decision)
        )


def pipeline_empty(pipeline, label):
    return pipeline | label >> beam.Create([])


def _contamination(item, opts):
    reason = dedupe.contamination_reason(item, opts.decontaminate, opts.near_threshold)
    if reason:
        yield item.key, (FigureStatus.CONTAMINATED, reason, None)


def _collapse_group(_, group):
    """(member key, canonical item) for each member of a group of duplicates."""
    keep, _others = dedupe.collapse(group)
    for item in group:
        yield item.key, keep


def _decide(element, same_phash_of, near_of):
    """A clean candidate's decision from the chained maps (None: kept), as dedupe.decisions:
    a DUPLICATE has the same pixels as the kept one it names, a NEAR_DUPLICATE does not."""
    key, canonical = element
    representative = same_phash_of.get(canonical.key, canonical.key)
    final = near_of.get(representative, representative)
    return key, dedupe.final_decision(key, canonical.key, final)


class NearDuplicates(beam.PTransform):
    """Items with distinct phashes -> (dropped key, kept key) for near duplicates."""

    def __init__(self, threshold: int):
        super().__init__()
        self.threshold = threshold

    def expand(self, items):
        t = self.threshold
        edges = (
            items
            # Two-level bands keep buckets small at millions of images (dedupe.band_keys).
            | "Bands" >> beam.FlatMap(_banded, t)
            | "GroupBands" >> beam.GroupByKey()
            | "Edges"
            >> beam.FlatMapTuple(lambda band, bucket: _bucket_edges(list(bucket), t, band))
        )
        return (
            edges | "AllEdges" >> beam.combiners.ToList() | "Resolve" >> beam.FlatMap(_resolve_near)
        )


def _banded(item, threshold):
    return [(band, item) for band in dedupe.band_keys(item.phash, threshold, depth=2)]


def _bucket_edges(bucket, threshold, band):
    """Edges of one LSH bucket, each carrying its two items (resolve needs their ranks)."""
    by_key = {item.key: item for item in bucket}
    for a, b, distance in dedupe.bucket_edges(bucket, threshold, band):
        yield by_key[a], by_key[b], distance


def _resolve_near(edges):
    items = {}
    for a, b, _ in edges:
        items[a.key], items[b.key] = a, b
    yield from sorted(
        dedupe.resolve(items.values(), [(a.key, b.key, d) for a, b, d in edges]).items()
    )


def _apply_decision(element):
    _, grouped = element
    # Contamination comes first: it is decided before dedupe and is the stronger reason.
    decisions = sorted(
        (d for d in grouped["decision"] if d is not None),
        key=lambda d: d[0] != FigureStatus.CONTAMINATED,
    )
    for figure, article in grouped["pair"]:
        row = assemble.apply_decision(figure, decisions[0] if decisions else None)
        yield assemble.finalize_figure(row, article), article


# --- assemble: writing --------------------------------------------------------------------


def to_pair(pair, shard_size: int, per_split: dict):
    """(figure, article) of a kept sample -> ((split, shard index), (pair record, where its
    JPEG is in staging: chunk, offset, length))."""
    figure, article = pair
    split = figure["split"]
    index = shards.shard_index(figure["key"], shards.shard_count(per_split[split], shard_size))
    record = records.pair_record(figure, article, shards.shard_name(split, index))
    where = (figure["chunk"], figure["jpeg_offset"], figure["image_bytes"])
    return (split, index), (record, where)


class WriteShard(beam.DoFn):
    """One shard from its pair records: reads each sample's JPEG from staging (one ranged
    read per sample, grouped by chunk), then writes the tar and its Parquet rows."""

    def __init__(self, output_uri: str):
        self.output_uri = output_uri

    def setup(self):
        self.output = Output(self.output_uri)

    def process(self, element):
        (split, index), located = element
        yield shards.write_shard(self.output, split, index, staged_samples(self.output, located))


def staged_samples(output: Output, located) -> list[tuple[dict, bytes]]:
    """(pair, JPEG) for each (pair, (chunk, offset, length)); a sample whose JPEG is missing
    is logged and left out, which the accounting identity in stats.json then reports."""
    by_chunk = defaultdict(list)
    for pair, (chunk, offset, length) in located:
        if chunk is None or offset is None or length is None:
            log.error("no staged JPEG for kept sample %s", pair["key"])
            continue
        by_chunk[chunk].append((pair, offset, length))
    samples = []
    for chunk, wanted in sorted(by_chunk.items()):
        jpegs = staging.read_jpegs(output, chunk, [(o, n) for _, o, n in wanted])
        samples.extend((pair, jpeg) for (pair, _, _), jpeg in zip(wanted, jpegs, strict=True))
    return samples


class WriteTable(beam.PTransform):
    """Rows -> Parquet parts of a table, each part the rows whose key hashes to it, sorted."""

    def __init__(self, output_uri: str, kind: str, schema_name: str, opts):
        super().__init__()
        self.output_uri, self.kind, self.schema_name = output_uri, kind, schema_name
        self.rows_per_file = opts.table_rows_per_file

    def expand(self, rows):
        key_field = "key" if self.kind == "figures" else "article_key"
        fields = records.FIGURE_FIELDS if self.kind == "figures" else records.ARTICLE_FIELDS
        count = rows | "Count" >> beam.combiners.Count.Globally()
        rows_per_file, output_uri, kind, schema_name = (
            self.rows_per_file,
            self.output_uri,
            self.kind,
            self.schema_name,
        )

        def part_of(row, n):
            parts = max(1, math.ceil(n / rows_per_file))
            return staging.stable_hash(row[key_field]) % parts, records.published(row, fields)

        def write(part, part_rows):
            n = shards.write_table_part(
                Output(output_uri), kind, part, list(part_rows), schema_name
            )
            return {"kind": kind, "part": part, "rows": n}

        return (
            rows
            | "Part" >> beam.Map(part_of, beam.pvalue.AsSingleton(count))
            | "GroupParts" >> beam.GroupByKey()
            | "WritePart" >> beam.MapTuple(write)
        )


class CountStatuses(beam.PTransform):
    """Rows -> ((status, reason name), n) for stats.json."""

    def expand(self, rows):
        return (
            rows
            | "StatusReason" >> beam.Map(lambda r: (r["status"], manifest.reason_name(r["reason"])))
            | "Count" >> beam.combiners.Count.PerElement()
        )


class WriteStats(beam.DoFn):
    """Runs once, after everything it reads as side inputs has been written."""

    def __init__(self, output_uri: str, options: dict):
        self.output_uri, self.options = output_uri, options

    def process(
        self, _, articles, figures, shard_summaries, article_parts, figure_parts, bytes_read
    ):
        stats = manifest.build_stats(
            manifest.status_block(articles),
            manifest.status_block(figures),
            shard_summaries,
            articles_listed=sum(p["rows"] for p in article_parts),
            figures_seen=sum(p["rows"] for p in figure_parts),
            bytes_read=sum(bytes_read),
            options=self.options,
        )
        output = Output(self.output_uri)
        for split, sizes in shards.split_sizes(shard_summaries).items():
            output.write_json(shards.sizes_path(split), sizes)
        output.write_json(manifest.STATS_FILE, stats)
        yield stats
