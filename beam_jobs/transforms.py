"""The build's DoFns and PTransforms. Each is a thin wrapper: the decision it applies is a
library function from pmc_pipeline, called on one element or one group.

Only Beam's primitives are used (ParDo, GroupByKey, Flatten, Create): no side inputs, no
metrics that the result is read from, so the same transforms run on DirectRunner, on
DaskRunner (which has neither) and on Dataflow. What a step needs to know of the whole
build (how many samples a split has, which generations are stale) is computed by the
launcher between pipelines and given to the transforms as plain values.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from pmc_pipeline import assemble, dedupe, manifest, records, shards, staging
from pmc_pipeline.dedupe import Item
from pmc_pipeline.extract import ExtractOptions, extract_article
from pmc_pipeline.model import FigureStatus
from pmc_pipeline.outputs import Output
from pmc_pipeline.plan import PlannedChunk, read_planned_refs

if TYPE_CHECKING:
    from beam_jobs.config import SourceSpec

log = logging.getLogger("pmc_pipeline.build")

# Staging figure columns that assemble reads: the published fields and where the JPEG is
# (the JPEG itself is read only for kept samples, by the shard writer).
FIGURE_COLUMNS = [*records.FIGURE_FIELDS, "generation", "chunk", "jpeg_offset", "jpeg_crc32"]

# The Beam type hints of what flows between the steps: rows (staging, intermediate,
# published) are dicts by column name; a figure travels with its article's record.
Row = dict[str, Any]
Pair = tuple[Row, Row]  # (figure row, article record)
Decision = tuple[str, str, str | None]  # (status, reason, duplicate_of) of a dropped figure


# --- extract ------------------------------------------------------------------------------


@beam.typehints.with_input_types(PlannedChunk)
@beam.typehints.with_output_types(Row)
class ExtractChunk(beam.DoFn):
    """Extract every article of a planned chunk (fetches overlap in a thread pool: the work
    is mostly waiting on the network) and write the chunk to staging, marker last. Writing
    the same chunk twice (a retried task) gives the same files."""

    def __init__(
        self,
        source_spec: SourceSpec,
        extract_options: ExtractOptions,
        output_uri: str,
        threads: int,
    ) -> None:
        self.source_spec, self.opts = source_spec, extract_options
        self.output_uri, self.threads = output_uri, threads

    def setup(self) -> None:
        self.source = self.source_spec.open()
        self.output = Output(self.output_uri)

    def process(self, planned: PlannedChunk) -> Iterator[Row]:
        refs = sorted(read_planned_refs(self.output, planned), key=lambda r: r.key)
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            results = list(pool.map(lambda ref: extract_article(ref, self.source, self.opts), refs))
        marker = staging.write_chunk(self.output, planned.chunk, results)
        log.debug(
            "chunk %s staged: %d articles %s, %d figures %s",
            planned.chunk,
            marker["articles"],
            marker["article_status"],
            marker["figures"],
            marker["figure_status"],
        )
        yield marker


# --- assemble: reading --------------------------------------------------------------------


@beam.typehints.with_input_types(str)
@beam.typehints.with_output_types(Row)
class ReadStaging(beam.DoFn):
    """The rows of one staging file of a chunk, checked against the chunk's marker."""

    def __init__(self, output_uri: str, filename: str, columns: list[str] | None = None) -> None:
        self.output_uri, self.filename, self.columns = output_uri, filename, columns

    def setup(self) -> None:
        self.output = Output(self.output_uri)

    def process(self, chunk: str) -> Iterator[Row]:
        yield from staging.read_chunk_rows(self.output, chunk, self.filename, self.columns)


@beam.typehints.with_input_types(str)
@beam.typehints.with_output_types(Row)
class ReadWork(beam.DoFn):
    """The rows of one of assemble's intermediate Parquet files."""

    def __init__(self, output_uri: str) -> None:
        self.output_uri = output_uri

    def setup(self) -> None:
        self.output = Output(self.output_uri)

    def process(self, relpath: str) -> Iterator[Row]:
        with self.output.fs.open_input_file(self.output.path(relpath)) as f:
            yield from pq.read_table(f).to_pylist()


# --- assemble: articles -------------------------------------------------------------------


@beam.typehints.with_input_types(Row)
@beam.typehints.with_output_types(Row)
class ChooseArticles(beam.PTransform):
    """Staged article rows -> the published record of each article (newest generation, newest
    version unless all versions are asked for, split set, takedowns removed)."""

    def __init__(self, opts: assemble.AssembleOptions, stale_generations: frozenset[int]) -> None:
        super().__init__()
        self.opts, self.stale = opts, stale_generations

    def expand(self, rows: beam.PCollection) -> beam.PCollection:
        opts, stale = self.opts, self.stale
        return (
            rows
            | "ByKey" >> beam.Map(lambda r: (r["article_key"], r))
            | "GroupKey" >> beam.GroupByKey()
            | "Newest" >> beam.MapTuple(lambda _, rs: assemble.newest_record(rs))
            | "Fresh" >> beam.Map(_refuse_stale, stale)
            | "ByPmcid" >> beam.Map(lambda r: (r["pmcid"], r))
            | "GroupPmcid" >> beam.GroupByKey()
            | "Versions"
            >> beam.FlatMapTuple(lambda _, rs: assemble.published_versions(rs, opts.all_versions))
            | "Finalize" >> beam.Map(assemble.finalize_article, opts)
        )


def _refuse_stale(article: dict, stale: frozenset[int]) -> dict:
    """An article whose newest record was staged with other extract settings (ledger.py)
    must not be published under this run's options."""
    if article["generation"] in stale:
        raise staging.StagingError(
            f"article {article['article_key']} was last extracted in generation "
            f"{article['generation']}, with other extract settings, and this run's listing did "
            "not extract it again: extract it with a listing that names it, or remove staging"
        )
    return article


def figures_of_article(element: tuple[str, dict[str, list[Row]]]) -> Iterator[Pair]:
    """(article_key, {article, figures}) -> (figure row, article) for the published record;
    figures of superseded versions or generations are dropped here."""
    _, grouped = element
    if not grouped["article"]:
        return
    article = grouped["article"][0]
    for figure in assemble.article_figures(article, grouped["figures"]):
        yield figure, article


def with_n_kept(element: tuple[str, dict[str, list]]) -> Iterator[Row]:
    _, grouped = element
    for article in grouped["article"]:
        yield {**article, "n_kept": sum(grouped["kept"])}


# --- assemble: dedupe ---------------------------------------------------------------------


@beam.typehints.with_input_types(Pair)
@beam.typehints.with_output_types(Pair)
class Dedupe(beam.PTransform):
    """(figure, article) pairs -> the same pairs with final statuses.

    The stages of pmc_pipeline.dedupe, spread out: decontamination (per item, against a small
    hash list), exact dedupe (group by pixel hash), same-phash collapse (group by phash), near
    duplicates (LSH bands -> per-bucket edges -> one global resolution over the comparatively
    few edges). Each candidate's decision follows its chain — canonical item of its exact
    group -> representative of its phash group -> kept item of its near group — through two
    joins (CoGroupByKey), and dedupe.final_decision turns the chain's end into the status."""

    def __init__(self, opts: assemble.AssembleOptions) -> None:
        super().__init__()
        self.opts = opts

    def expand(self, pairs: beam.PCollection) -> beam.PCollection:
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
        # (member key, canonical item of its exact group) for every clean candidate.
        exact = (
            clean
            | "ByPixels" >> beam.Map(lambda item: (item.pixel_sha256, item))
            | "GroupPixels" >> beam.GroupByKey()
            | "Collapse" >> beam.FlatMapTuple(_collapse_group)
        )
        if opts.near_threshold is None:
            decided = exact | "DecideExact" >> beam.MapTuple(
                lambda key, canonical: (
                    key,
                    dedupe.final_decision(key, canonical.key, canonical.key),
                )
            )
        else:
            survivors = (
                exact | "Survivors" >> beam.Filter(lambda kv: kv[0] == kv[1].key) | beam.Values()
            )
            # (survivor key, representative item of its phash group), every survivor.
            same_phash = (
                survivors
                | "ByPhash" >> beam.Map(lambda item: (item.phash, item))
                | "GroupPhash" >> beam.GroupByKey()
                | "CollapsePhash" >> beam.FlatMapTuple(_collapse_group)
            )
            representatives = (
                same_phash
                | "Representatives" >> beam.Filter(lambda kv: kv[0] == kv[1].key)
                | "Reps" >> beam.Values()
            )
            near_of = representatives | "Near" >> NearDuplicates(opts.near_threshold)
            # (survivor key, where its chain ends): its representative's near kept item.
            final_of_survivor = (
                {
                    "members": same_phash | "ByRep" >> beam.MapTuple(lambda k, rep: (rep.key, k)),
                    "near": near_of,
                }
                | "JoinNear" >> beam.CoGroupByKey()
                | "SurvivorFinal" >> beam.FlatMap(_chain_end)
            )
            decided = (
                {
                    "members": exact
                    | "ByCanonical" >> beam.MapTuple(lambda k, canonical: (canonical.key, k)),
                    "final": final_of_survivor,
                }
                | "JoinFinal" >> beam.CoGroupByKey()
                | "Decide" >> beam.FlatMap(_decide)
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


def _contamination(item: Item, opts: assemble.AssembleOptions) -> Iterator[tuple[str, Decision]]:
    reason = dedupe.contamination_reason(item, opts.decontaminate, opts.near_threshold)
    if reason:
        yield item.key, (FigureStatus.CONTAMINATED, reason, None)


def _collapse_group(_: str, group: Iterable[Item]) -> Iterator[tuple[str, Item]]:
    """(member key, canonical item) for each member of a group of duplicates."""
    group = list(group)
    keep, _others = dedupe.collapse(group)
    for item in group:
        yield item.key, keep


def _chain_end(element: tuple[str, dict[str, list[str]]]) -> Iterator[tuple[str, str]]:
    """(representative key, {members, near}) -> (member, the kept item its chain ends at)."""
    representative, grouped = element
    final = grouped["near"][0] if grouped["near"] else representative
    for member in grouped["members"]:
        yield member, final


def _decide(element: tuple[str, dict[str, list[str]]]) -> Iterator[tuple[str, Decision | None]]:
    """(canonical key, {members, final}) -> (member key, its decision; None: kept)."""
    canonical, grouped = element
    (final,) = grouped["final"]
    for key in grouped["members"]:
        yield key, dedupe.final_decision(key, canonical, final)


@beam.typehints.with_input_types(Item)
@beam.typehints.with_output_types(tuple[str, str])
class NearDuplicates(beam.PTransform):
    """Items with distinct phashes -> (dropped key, kept key) for near duplicates."""

    def __init__(self, threshold: int) -> None:
        super().__init__()
        self.threshold = threshold

    def expand(self, items: beam.PCollection) -> beam.PCollection:
        t = self.threshold
        edges = (
            items
            # Two-level bands keep buckets small at millions of images (dedupe.band_keys).
            | "Bands" >> beam.FlatMap(_banded, t)
            | "GroupBands" >> beam.GroupByKey()
            | "Edges"
            >> beam.FlatMapTuple(lambda band, bucket: _bucket_edges(list(bucket), t, band))
        )
        # One group holding every edge (a GroupByKey, not a global combine: those inject
        # their default through a side input).
        return (
            edges
            | "OneKey" >> beam.Map(lambda edge: (None, edge))
            | "AllEdges" >> beam.GroupByKey()
            | "Resolve" >> beam.FlatMapTuple(lambda _, edges: _resolve_near(list(edges)))
        )


def _banded(item: Item, threshold: int) -> list[tuple[str, Item]]:
    return [(band, item) for band in dedupe.band_keys(item.phash, threshold, depth=2)]


def _bucket_edges(
    bucket: list[Item], threshold: int, band: str
) -> Iterator[tuple[Item, Item, int]]:
    """Edges of one LSH bucket, each carrying its two items (resolve needs their ranks)."""
    by_key = {item.key: item for item in bucket}
    for a, b, distance in dedupe.bucket_edges(bucket, threshold, band):
        yield by_key[a], by_key[b], distance


def _resolve_near(edges: list[tuple[Item, Item, int]]) -> Iterator[tuple[str, str]]:
    items = {}
    for a, b, _ in edges:
        items[a.key], items[b.key] = a, b
    yield from sorted(
        dedupe.resolve(items.values(), [(a.key, b.key, d) for a, b, d in edges]).items()
    )


def _apply_decision(element: tuple[str, dict[str, list]]) -> Iterator[Pair]:
    _, grouped = element
    # Contamination comes first: it is decided before dedupe and is the stronger reason.
    decisions = sorted(
        (d for d in grouped["decision"] if d is not None),
        key=lambda d: d[0] != FigureStatus.CONTAMINATED,
    )
    for figure, article in grouped["pair"]:
        row = assemble.apply_decision(figure, decisions[0] if decisions else None)
        yield assemble.finalize_figure(row, article), article


# --- assemble: the intermediate rows between the two pipelines -----------------------------

# Kept samples as the publish pipeline needs them: the pair record (sidecar JSON, the shard
# name still empty) and where the JPEG is in staging.
KEPT_FIELDS = ("key", "split", "pair", "chunk", "jpeg_offset", "image_bytes", "jpeg_crc32")


def published_row(row: Row, kind: str) -> Row:
    """A figure or article row restricted to its published table's fields."""
    return records.published(
        row, records.FIGURE_FIELDS if kind == "figures" else records.ARTICLE_FIELDS
    )


def kept_sample(pair: Pair) -> Row:
    figure, article = pair
    record = records.pair_record(figure, article, "")
    return {
        "key": figure["key"],
        "split": figure["split"],
        "pair": json.dumps(record, ensure_ascii=False),
        **{name: figure[name] for name in KEPT_FIELDS[3:]},
    }


@beam.typehints.with_input_types(Row)
@beam.typehints.with_output_types(Row)
class WriteWork(beam.PTransform):
    """Rows -> assemble's intermediate Parquet parts (`_assemble/<kind>/part-NNNNN.parquet`,
    rows spread by key hash), each part yielding its summary: rows, status counts, kept
    samples per split, bytes read (the launcher adds them up)."""

    def __init__(self, output_uri: str, kind: str, key_field: str, parts: int) -> None:
        super().__init__()
        self.output_uri, self.kind, self.key_field, self.parts = output_uri, kind, key_field, parts

    def expand(self, rows: beam.PCollection) -> beam.PCollection:
        output_uri, kind, key_field, parts = self.output_uri, self.kind, self.key_field, self.parts
        return (
            rows
            | "Part" >> beam.Map(lambda r: (staging.stable_hash(r[key_field]) % parts, r))
            | "GroupPart" >> beam.GroupByKey()
            | "WritePart"
            >> beam.MapTuple(lambda part, rs: write_work_part(output_uri, kind, part, list(rs)))
        )


def write_work_part(output_uri: str, kind: str, part: int, rows: list[Row]) -> Row:
    from pmc_pipeline.publish import WORK_DIR

    rows.sort(key=lambda r: r[WORK_KEYS[kind]])
    path = f"{WORK_DIR}/{kind}/part-{part:05d}.parquet"
    staging.write_parquet(Output(output_uri), path, rows, work_schema(kind))
    summary: Row = {"kind": kind, "path": path, "rows": len(rows)}
    if kind in ("figures", "articles"):
        counts = Counter((r["status"], manifest.reason_name(r["reason"])) for r in rows)
        summary["statuses"] = [[s, r, n] for (s, r), n in sorted(counts.items(), key=str)]
    if kind == "kept":
        summary["per_split"] = dict(Counter(r["split"] for r in rows))
    if kind == "articles":
        summary["bytes_read"] = sum(r["bytes_read"] for r in rows)
    return summary


# Assemble's intermediate kinds: their key field, and the published schema of their rows.
WORK_KEYS = {"figures": "key", "articles": "article_key", "kept": "key"}
TABLE_SCHEMAS = {"figures": "figure", "articles": "article_row"}


def work_schema(kind: str) -> pa.Schema:
    if kind == "kept":
        types = {"jpeg_offset": pa.int64(), "image_bytes": pa.int64(), "jpeg_crc32": pa.int64()}
        return pa.schema([(name, types.get(name, pa.string())) for name in KEPT_FIELDS])
    return records.arrow_schemas()[TABLE_SCHEMAS[kind]]


@beam.typehints.with_output_types(int)
class WriteSummary(beam.DoFn):
    """The pipeline's one terminal step: every writer's summary in one JSON file, which the
    launcher reads (a single sink, so that DaskRunner, which computes only a pipeline's last
    step, runs everything)."""

    def __init__(self, output_uri: str, relpath: str) -> None:
        self.output_uri, self.relpath = output_uri, relpath

    def process(self, element: tuple[None, Iterable[Row]]) -> Iterator[int]:
        _, summaries = element
        summaries = sorted(summaries, key=lambda s: json.dumps(s, sort_keys=True))
        Output(self.output_uri).write_json(self.relpath, summaries)
        yield len(summaries)


def summarise(
    pcolls: tuple[beam.PCollection, ...], output_uri: str, relpath: str, label: str = "Summary"
) -> beam.PCollection:
    """Flatten the writers' summaries into one file (see WriteSummary)."""
    return (
        pcolls
        | f"{label}All" >> beam.Flatten()
        | f"{label}OneKey" >> beam.Map(lambda s: (None, s))
        | f"{label}Group" >> beam.GroupByKey()
        | f"{label}Write" >> beam.ParDo(WriteSummary(output_uri, relpath))
    )


# --- assemble: publishing -----------------------------------------------------------------


def to_shard(
    sample: Row, shard_size: int, per_split: dict[str, int]
) -> tuple[tuple[str, int], tuple[Row, tuple]]:
    """A kept sample -> ((split, shard index), (pair record, where its JPEG is in staging))."""
    split = sample["split"]
    index = shards.shard_index(sample["key"], shards.shard_count(per_split[split], shard_size))
    pair = json.loads(sample["pair"])
    pair["shard"] = shards.shard_name(split, index)
    where = (sample["chunk"], sample["jpeg_offset"], sample["image_bytes"], sample["jpeg_crc32"])
    return (split, index), (pair, where)


@beam.typehints.with_input_types(tuple[tuple[str, int], Iterable[Any]])
@beam.typehints.with_output_types(Row)
class WriteShard(beam.DoFn):
    """One shard from its pair records: reads each sample's JPEG from staging (one ranged
    read per sample, grouped by chunk, each checked against its CRC), then writes the tar
    and its Parquet rows."""

    def __init__(self, output_uri: str) -> None:
        self.output_uri = output_uri

    def setup(self) -> None:
        self.output = Output(self.output_uri)

    def process(
        self, element: tuple[tuple[str, int], Iterable[tuple[Row, tuple]]]
    ) -> Iterator[Row]:
        (split, index), located = element
        yield shards.write_shard(self.output, split, index, staged_samples(self.output, located))


def staged_samples(output: Output, located: Iterable[tuple[Row, tuple]]) -> list[tuple[Row, bytes]]:
    """(pair, JPEG) for each (pair, (chunk, offset, length, crc)); a sample whose JPEG is not
    in staging (no offset) is logged and left out, which the accounting identity reports."""
    by_chunk: dict[str, list] = defaultdict(list)
    for pair, (chunk, offset, length, crc) in located:
        if chunk is None or offset is None or length is None:
            log.error("no staged JPEG for kept sample %s", pair["key"])
            continue
        by_chunk[chunk].append((pair, (offset, length, crc)))
    samples: list[tuple[Row, bytes]] = []
    for chunk, wanted in sorted(by_chunk.items()):
        jpegs = staging.read_jpegs(output, chunk, [span for _, span in wanted])
        samples.extend((pair, jpeg) for (pair, _), jpeg in zip(wanted, jpegs, strict=True))
    return samples


@beam.typehints.with_input_types(Row)
@beam.typehints.with_output_types(Row)
class WriteTable(beam.PTransform):
    """Rows -> the `parts` Parquet parts of a published table, each part the rows whose key
    hashes to it, sorted."""

    def __init__(self, output_uri: str, kind: str, parts: int) -> None:
        super().__init__()
        self.output_uri, self.kind, self.parts = output_uri, kind, parts

    def expand(self, rows: beam.PCollection) -> beam.PCollection:
        output_uri, kind, parts = self.output_uri, self.kind, self.parts
        key_field = "key" if kind == "figures" else "article_key"
        schema_name = TABLE_SCHEMAS[kind]
        return (
            rows
            | "Part" >> beam.Map(lambda r: (staging.stable_hash(r[key_field]) % parts, r))
            | "GroupParts" >> beam.GroupByKey()
            | "WritePart"
            >> beam.MapTuple(
                lambda part, rs: shards.write_table_part(
                    Output(output_uri), kind, part, list(rs), schema_name
                )
            )
        )


def table_parts(rows: int, rows_per_file: int) -> int:
    return max(1, math.ceil(rows / rows_per_file))
