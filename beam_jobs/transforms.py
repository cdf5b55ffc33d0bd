"""The build's DoFns and PTransforms. Each is a thin wrapper: the decision it applies is a
library function from pmc_pipeline, called on one element or one group.

Only Beam's primitives are used (ParDo, GroupByKey, Flatten, Create): no side inputs, no
metrics that the result is read from, so the same transforms run on DirectRunner, on
DaskRunner (which has neither) and on Dataflow. What a step needs to know of the whole
build (how many samples a split has, which generations are stale) is computed by the
launcher between pipelines and given to the transforms as plain values.
"""

from __future__ import annotations

import contextlib
import itertools
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
from pmc_pipeline.arrow_memory import use_system_pool
from pmc_pipeline.dedupe import Item
from pmc_pipeline.extract import ExtractOptions, extract_article
from pmc_pipeline.model import FigureStatus, article_key_of
from pmc_pipeline.outputs import Output
from pmc_pipeline.plan import PlannedChunk, read_planned_refs

if TYPE_CHECKING:
    from beam_jobs.config import SourceSpec

log = logging.getLogger("pmc_pipeline.build")

# The Beam type hints of what flows between the steps: rows (staging heads, decisions,
# published rows) are dicts by column name.
Row = dict[str, Any]
Decision = tuple[str, str | None, str | None]  # (status, reason, duplicate_of) of a dropped figure
ArticleGroup = tuple[Row, list[Row]]  # (published article, its figure rows)
Where = tuple  # ("shard", split, index) or (kind, table part)

# What the decide pipeline reads of staging: only what its decisions need, so that its
# shuffles move a few hundred bytes per figure, not captions and mentions. The publish
# pipeline reads the whole rows again, chunk by chunk, and applies the decisions.
ARTICLE_HEAD = [
    "article_key", "pmcid", "version", "generation", "chunk", "status", "reason",
    "reason_detail", "bytes_read",
]  # fmt: skip
FIGURE_HEAD = [
    "key", "article_key", "generation", "chunk", "status", "reason", "reason_detail",
    "duplicate_of", "split", "pixel_sha256", "phash", "orig_width", "orig_height",
]  # fmt: skip
# What a decision sets: on an article row (with n_kept), on a figure row.
ARTICLE_DECIDED = ("status", "reason", "reason_detail", "split", "n_kept")
FIGURE_DECIDED = ("status", "reason", "reason_detail", "duplicate_of", "split")
# Staging figure columns the publish pipeline reads: every published field and where the
# JPEG is (the JPEG itself is read only for kept samples, by the shard writer).
FIGURE_COLUMNS = [*records.FIGURE_FIELDS, "generation", "chunk", "jpeg_offset", "jpeg_crc32"]


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
        use_system_pool()
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
        use_system_pool()
        self.output = Output(self.output_uri)

    def process(self, chunk: str) -> Iterator[Row]:
        yield from staging.read_chunk_rows(self.output, chunk, self.filename, self.columns)


# --- assemble: articles -------------------------------------------------------------------


@beam.typehints.with_input_types(Row)
@beam.typehints.with_output_types(Row)
class ChooseArticles(beam.PTransform):
    """Staged article heads -> the published record of each article: per PMCID (one group),
    each version's newest generation, then the newest version unless all versions are
    asked for; split set, takedowns removed."""

    def __init__(self, opts: assemble.AssembleOptions, stale_generations: frozenset[int]) -> None:
        super().__init__()
        self.opts, self.stale = opts, stale_generations

    def expand(self, rows: beam.PCollection) -> beam.PCollection:
        opts, stale = self.opts, self.stale
        return (
            rows
            | "ByPmcid" >> beam.Map(lambda r: (r["pmcid"], r))
            | "GroupPmcid" >> beam.GroupByKey()
            | "Choose"
            >> beam.FlatMapTuple(lambda _, rs: assemble.choose_records(rs, opts.all_versions))
            | "Fresh" >> beam.Map(_refuse_stale, stale)
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


def article_group(element: tuple[str, dict[str, list[Row]]]) -> Iterator[tuple[str, ArticleGroup]]:
    """(article_key, {article, figures}) -> (article_key, (article, its figure heads)) for a
    published record; figures of superseded versions or generations are dropped here."""
    key, grouped = element
    if not grouped["article"]:
        return
    article = grouped["article"][0]
    yield key, (article, assemble.article_figures(article, grouped["figures"]))


def candidate_items(element: tuple[str, ArticleGroup]) -> Iterator[Item]:
    """The dedupe items of an article's candidate figures."""
    _, (_, figures) = element
    for figure in figures:
        if assemble.is_candidate(figure):
            yield dedupe.item_of(figure)


def decide_article(element: tuple[str, dict[str, list]]) -> Iterator[Row]:
    """(article_key, {group, decision}) -> the decisions of one published article: its
    figures' final status (dedupe and decontamination applied) and its own row's."""
    _, grouped = element
    if not grouped["group"]:
        return
    (article, figures) = grouped["group"][0]
    decisions: dict[str, list[Decision]] = defaultdict(list)
    for key, decision in grouped["decision"]:
        if decision is not None:
            decisions[key].append(decision)
    kept = 0
    for figure in figures:
        # Contamination comes first: it is decided before dedupe and is the stronger reason.
        chosen = sorted(
            decisions.get(figure["key"], ()), key=lambda d: d[0] != FigureStatus.CONTAMINATED
        )
        row = assemble.finalize_figure(
            assemble.apply_decision(figure, chosen[0] if chosen else None), article
        )
        kept += row["status"] == FigureStatus.KEPT
        yield figure_decision(row)
    yield article_decision(article, kept)


def figure_decision(row: Row) -> Row:
    """The decision row of a published figure, from its final row."""
    return {"kind": "figure", "chunk": row["chunk"], "key": row["key"]} | _pick(row, FIGURE_DECIDED)


def article_decision(article: Row, n_kept: int) -> Row:
    """The decision row of a published article, with the number of its kept figures."""
    row = {**article, "n_kept": n_kept}
    return {
        "kind": "article",
        "chunk": row["chunk"],
        "key": row["article_key"],
        "bytes_read": row["bytes_read"],
    } | _pick(row, ARTICLE_DECIDED)


def _pick(row: Row, names: Iterable[str]) -> Row:
    return {name: row[name] for name in names}


# --- assemble: dedupe ---------------------------------------------------------------------


@beam.typehints.with_input_types(Item)
@beam.typehints.with_output_types(tuple[str, tuple[str, Any]])
class Dedupe(beam.PTransform):
    """Dedupe items -> (article_key, (figure key, decision)) for every candidate; decision
    None: kept. Up to dedupe.IN_ONE_PLACE_UP_TO expected items, all in one group, decided by
    dedupe.decide_all; beyond, stage by stage:

    The stages of pmc_pipeline.dedupe, spread out: decontamination (per item, against a small
    hash list), exact dedupe (group by pixel hash), same-phash collapse (group by phash), near
    duplicates (LSH bands -> per-bucket edges -> one global resolution over the comparatively
    few edges). Each candidate's decision follows its chain — canonical item of its exact
    group -> representative of its phash group -> kept item of its near group — through two
    joins (CoGroupByKey), and dedupe.final_decision turns the chain's end into the status."""

    def __init__(self, opts: assemble.AssembleOptions, expected_items: int | None = None) -> None:
        super().__init__()
        self.opts = opts
        self.depth = dedupe.band_depth(expected_items or dedupe.ONE_LEVEL_UP_TO + 1)
        self.in_one_place = (
            expected_items is not None and expected_items <= dedupe.IN_ONE_PLACE_UP_TO
        )

    def expand(self, candidates: beam.PCollection) -> beam.PCollection:
        opts = self.opts
        if self.in_one_place:  # few enough: one group, the library decides (same answer)
            return (
                candidates
                | "OneKey" >> beam.Map(lambda item: (None, item))
                | "AllItems" >> beam.GroupByKey()
                | "DecideAll"
                >> beam.FlatMapTuple(
                    lambda _, items: dedupe.decide_all(
                        items, opts.near_threshold, opts.decontaminate
                    ).items()
                )
                | "ByArticle" >> beam.Map(lambda kd: (article_key_of(kd[0]), kd))
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
            near_of = representatives | "Near" >> NearDuplicates(opts.near_threshold, self.depth)
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
        return (
            (contaminated, decided)
            | "AllDecisions" >> beam.Flatten()
            | "ByArticle" >> beam.Map(lambda kd: (article_key_of(kd[0]), kd))
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

    def __init__(self, threshold: int, depth: int = 2) -> None:
        super().__init__()
        self.threshold, self.depth = threshold, depth

    def expand(self, items: beam.PCollection) -> beam.PCollection:
        t = self.threshold
        edges = (
            items
            # Two-level bands keep buckets small at millions of images (dedupe.band_depth).
            | "Bands" >> beam.FlatMap(_banded, t, self.depth)
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


def _banded(item: Item, threshold: int, depth: int) -> list[tuple[str, Item]]:
    return [(band, item) for band in dedupe.band_keys(item.phash, threshold, depth)]


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


# --- assemble: the decisions between the two pipelines ------------------------------------


def decisions_schema() -> pa.Schema:
    """One row per decided article or figure, with the chunk whose staged rows it decides."""
    text = pa.string()
    return pa.schema(
        [
            ("chunk", text),
            ("kind", text),
            ("key", text),
            ("status", text),
            ("reason", text),
            ("reason_detail", text),
            ("duplicate_of", text),
            ("split", text),
            ("n_kept", pa.int64()),
            ("bytes_read", pa.int64()),
        ]
    )


@beam.typehints.with_input_types(Row)
@beam.typehints.with_output_types(Row)
class WriteDecisions(beam.PTransform):
    """Decisions -> `_assemble/decisions/part-NNNNN.parquet`, all of a chunk's decisions in
    one part (parts by chunk hash), each part yielding its summary: rows by kind, status
    counts, kept samples per split, bytes read (the launcher adds them up)."""

    def __init__(self, output_uri: str, parts: int) -> None:
        super().__init__()
        self.output_uri, self.parts = output_uri, parts

    def expand(self, decisions: beam.PCollection) -> beam.PCollection:
        output_uri, parts = self.output_uri, self.parts
        return (
            decisions
            | "Part" >> beam.Map(lambda d: (staging.stable_hash(d["chunk"]) % parts, d))
            | "GroupPart" >> beam.GroupByKey()
            | "WritePart"
            >> beam.MapTuple(lambda part, ds: write_decisions(output_uri, part, list(ds)))
        )


def write_decisions(output_uri: str, part: int, decisions: list[Row]) -> Row:
    from pmc_pipeline.publish import WORK_DIR

    decisions.sort(key=lambda d: (d["chunk"], d["kind"], d["key"]))
    path = f"{WORK_DIR}/decisions/part-{part:05d}.parquet"
    columns = decisions_schema().names
    rows = [{name: d.get(name) for name in columns} for d in decisions]
    staging.write_parquet(Output(output_uri), path, rows, decisions_schema())
    counts = Counter((d["kind"], d["status"], manifest.reason_name(d["reason"])) for d in decisions)
    kept = Counter(d["split"] for d in decisions if d["kind"] == "figure" and d["status"] == "kept")
    return {
        "path": path,
        "rows": {
            "figures": sum(d["kind"] == "figure" for d in decisions),
            "articles": sum(d["kind"] == "article" for d in decisions),
        },
        "statuses": [[k, s, r, n] for (k, s, r), n in sorted(counts.items(), key=str)],
        "per_split": dict(kept),
        "bytes_read": sum(d["bytes_read"] or 0 for d in decisions if d["kind"] == "article"),
    }


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


def summarise(summaries: beam.PCollection, output_uri: str, relpath: str) -> beam.PCollection:
    """Every writer's summary into one file (see WriteSummary)."""
    return (
        summaries
        | "SummaryOneKey" >> beam.Map(lambda s: (None, s))
        | "SummaryGroup" >> beam.GroupByKey()
        | "SummaryWrite" >> beam.ParDo(WriteSummary(output_uri, relpath))
    )


# --- assemble: publishing -----------------------------------------------------------------

TABLE_SCHEMAS = {"figures": "figure", "articles": "article_row"}


# Publishing moves every published row once more, grouped by the file it goes to. Not
# through a GroupByKey, which would hold them all in memory on DirectRunner and on Dask's
# workers: through files, as a MapReduce does. Spread writes, for each part of the decisions,
# one Arrow file per group of destination files (a record batch per destination);
# WriteGroup then reads, for each destination of its group, its batch from every part's
# file, and writes the published file. Memory holds one part, or one destination file.
SPREAD_DIR = "spread"
SHARD_SCHEMA = pa.schema(
    [
        ("pair", pa.string()),
        ("chunk", pa.string()),
        ("jpeg_offset", pa.int64()),
        ("image_bytes", pa.int64()),
        ("jpeg_crc32", pa.int64()),
    ]
)


def destination_name(where: Where) -> str:
    """('shard', 'train', 3) -> 'shard/train/3'; ('figures', 0) -> 'figures/0'."""
    return "/".join(str(part) for part in where)


def spread_schema(kind: str) -> pa.Schema:
    return SHARD_SCHEMA if kind == "shard" else records.arrow_schemas()[TABLE_SCHEMAS[kind]]


@beam.typehints.with_input_types(str)
@beam.typehints.with_output_types(Row)
class Spread(beam.DoFn):
    """One part of the decisions -> its chunks' published rows, decided, in one Arrow file
    per (group of destinations, kind): the chunks' whole staged rows (checked against their
    markers) read once, the decisions applied. Figure and article rows go to their table's
    part; kept samples to their shard, as (pair record JSON, where the JPEG is in staging).
    Yields the files written."""

    def __init__(
        self,
        output_uri: str,
        shard_size: int,
        per_split: dict,
        parts: dict,
        group_of: dict[str, int],
    ) -> None:
        self.output_uri, self.shard_size = output_uri, shard_size
        self.per_split, self.parts, self.group_of = per_split, parts, group_of

    def setup(self) -> None:
        use_system_pool()
        self.output = Output(self.output_uri)

    def process(self, relpath: str) -> Iterator[Row]:
        with self.output.fs.open_input_file(self.output.path(relpath)) as f:
            decisions = pq.read_table(f).to_pylist()
        part = relpath.rsplit("-", 1)[1].split(".")[0]
        by_destination: dict[str, list] = defaultdict(list)
        for chunk, decided in itertools.groupby(decisions, key=lambda d: d["chunk"]):
            for where, row in self._chunk(chunk, list(decided)):
                by_destination[destination_name(where)].append(row)
        by_file: dict[tuple[int, str], list[str]] = defaultdict(list)
        for name in by_destination:
            by_file[(self.group_of[name], name.split("/", 1)[0])].append(name)
        for (group, kind), names in sorted(by_file.items()):
            path = f"{_spread_dir(group)}/{kind}-{part}.arrow"
            batches = {name: by_destination[name] for name in sorted(names)}
            write_spread_file(self.output, path, spread_schema(kind), batches)
            yield {"group": group, "path": path, "destinations": sorted(names)}

    def _chunk(self, chunk: str, decided: list[Row]) -> Iterator[tuple[Where, Row]]:
        by_kind: dict[str, dict[str, Row]] = {"article": {}, "figure": {}}
        for d in decided:
            by_kind[d["kind"]][d["key"]] = d
        articles = {}
        for row in staging.read_chunk_rows(self.output, chunk, staging.ARTICLES_FILE):
            decision = by_kind["article"].get(row["article_key"])
            if decision is not None:
                article = {**row, **_pick(decision, ARTICLE_DECIDED)}
                articles[row["article_key"]] = article
                yield self._table("articles", published_row(article, "articles"))
        for row in staging.read_chunk_rows(
            self.output, chunk, staging.FIGURES_FILE, FIGURE_COLUMNS
        ):
            decision = by_kind["figure"].get(row["key"])
            if decision is None:
                continue  # a figure of a superseded record
            figure = {**row, **_pick(decision, FIGURE_DECIDED)}
            yield self._table("figures", published_row(figure, "figures"))
            if figure["status"] == FigureStatus.KEPT:
                yield self._shard(figure, articles[figure["article_key"]])

    def _table(self, kind: str, row: Row) -> tuple[Where, Row]:
        key = row["key" if kind == "figures" else "article_key"]
        return (kind, staging.stable_hash(key) % self.parts[kind]), row

    def _shard(self, figure: Row, article: Row) -> tuple[Where, Row]:
        split = figure["split"]
        count = shards.shard_count(self.per_split[split], self.shard_size)
        index = shards.shard_index(figure["key"], count)
        pair = records.pair_record(figure, article, shards.shard_name(split, index))
        return ("shard", split, index), {
            "pair": json.dumps(pair, ensure_ascii=False),
            **{name: figure[name] for name in SHARD_SCHEMA.names[1:]},
        }


def _spread_dir(group: int) -> str:
    from pmc_pipeline.publish import WORK_DIR

    return f"{WORK_DIR}/{SPREAD_DIR}/g{group:05d}"


def write_spread_file(
    output: Output, path: str, schema: pa.Schema, batches: dict[str, list[Row]]
) -> None:
    """An Arrow IPC file of one record batch per destination, in the order of `batches`,
    the destinations' names in its schema metadata."""
    names = list(batches)
    tagged = schema.with_metadata({b"destinations": json.dumps(names).encode()})
    with output.open_write(path) as out, pa.ipc.new_file(out, tagged) as writer:
        for name in names:
            writer.write_batch(pa.RecordBatch.from_pylist(batches[name], schema=schema))


def _destinations(reader: pa.ipc.RecordBatchFileReader) -> list[str]:
    return json.loads(reader.schema.metadata[b"destinations"])


@beam.typehints.with_input_types(tuple[int, list[str]])
@beam.typehints.with_output_types(Row)
class WriteGroup(beam.DoFn):
    """(group, [spread files]) -> the published files of the group's destinations, one at a
    time: each from its batches in every part's file. A shard: its tar and Parquet pair rows
    (each sample's JPEG read from staging by range, grouped by chunk, checked against its
    CRC); a table part: its rows sorted by key. Yields what it wrote.

    The group's files stay open and only their footers are read up front, so that memory
    holds one destination's rows at a time, whatever the number of destinations in a group
    (build_dataset.write_groups) or of parts (which grows with the build)."""

    def __init__(self, output_uri: str):
        self.output_uri = output_uri

    def setup(self) -> None:
        use_system_pool()
        self.output = Output(self.output_uri)

    def process(self, element: tuple[int, list[str]]) -> Iterator[Row]:
        _, paths = element
        with contextlib.ExitStack() as stack:
            readers = []
            for path in sorted(paths):
                f = stack.enter_context(self.output.fs.open_input_file(self.output.path(path)))
                reader = pa.ipc.open_file(f)
                readers.append((reader, {n: i for i, n in enumerate(_destinations(reader))}))
            names = sorted({name for _, index in readers for name in index})
            for name in names:
                batches = [r.get_batch(index[name]) for r, index in readers if name in index]
                yield self._write(name, pa.Table.from_batches(batches))

    def _write(self, name: str, table: pa.Table) -> Row:
        kind, *where = name.split("/")
        if kind != "shard":
            return shards.write_table_part(
                self.output, kind, int(where[0]), table, TABLE_SCHEMAS[kind]
            )
        split, index = where[0], int(where[1])
        located = [
            (json.loads(row["pair"]), tuple(row[n] for n in SHARD_SCHEMA.names[1:]))
            for row in table.to_pylist()
        ]
        return shards.write_shard(self.output, split, index, staged_samples(self.output, located))


def published_row(row: Row, kind: str) -> Row:
    """A figure or article row restricted to its published table's fields."""
    return records.published(
        row, records.FIGURE_FIELDS if kind == "figures" else records.ARTICLE_FIELDS
    )


def staged_samples(output: Output, located: Iterable[tuple[Row, tuple]]) -> list[tuple[Row, bytes]]:
    """(pair, JPEG) for each (pair, (chunk, offset, length, crc)); a sample whose JPEG is not
    in staging (no offset) is logged and left out, which the accounting identity reports."""
    by_chunk: dict[str, list[tuple[Row, tuple[int, int, int | None]]]] = defaultdict(list)
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


def table_parts(rows: int, rows_per_file: int) -> int:
    return max(1, math.ceil(rows / rows_per_file))
