"""The decide pipeline for builds whose dedupe fits in one place (up to
dedupe.IN_ONE_PLACE_UP_TO expected candidates): one task streams staging's heads chunk by
chunk and holds only what the decisions need, in compact form.

Why not the PCollections of decide_pipeline: its dedupe puts every candidate in one group
anyway at this size, and the local runners keep every PCollection of a pipeline in memory
(DirectRunner between its stages, Dask's workers until the steps reading them have run), so
the article and figure heads, their groupings and their joins grew each process by several
kilobytes per article. Here a process holds, per article, one tuple of its published
record and a count, and per candidate figure its dedupe item in columns (dedupe.Candidates,
about 90 bytes); the heads are read again for the decisions, one decision part at a time.

The decisions are the same, made by the same library functions in the same order of
precedence (assemble.choose_records -> finalize_article -> article_figures ->
dedupe.decide_all's decontamination, then dedupe.decide_candidates, which decides what
decide_all's decide_clean does -> apply_decision -> finalize_figure), and written by the
same write_decisions: tests/test_build_decide.py compares the decision files of both
pipelines, tests/test_dedupe.py the two dedupes.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Iterator

import apache_beam as beam

from beam_jobs import transforms as T
from pmc_pipeline import assemble, dedupe, staging
from pmc_pipeline.arrow_memory import trim_heap, use_system_pool
from pmc_pipeline.model import article_key_of
from pmc_pipeline.outputs import Output

Row = T.Row
# What is kept of each published article between the passes, in this order.
_KEPT = ("article_key", "generation", "chunk", "status", "reason", "reason_detail", "split",
         "bytes_read")  # fmt: skip
_CHUNK = _KEPT.index("chunk")


@beam.typehints.with_input_types(list[str])
@beam.typehints.with_output_types(Row)
class DecideInOnePlace(beam.DoFn):
    """[every complete chunk] -> the summary of each decision part written (as
    T.WriteDecisions yields them)."""

    def __init__(
        self,
        output_uri: str,
        opts: assemble.AssembleOptions,
        stale_generations: frozenset[int],
        parts: int,
    ) -> None:
        self.output_uri, self.opts = output_uri, opts
        self.stale, self.parts = stale_generations, parts

    def setup(self) -> None:
        use_system_pool()

    def process(self, chunks: list[str]) -> Iterator[Row]:
        yield from decide_in_one_place(
            Output(self.output_uri), sorted(chunks), self.opts, self.stale, self.parts
        )


def decide_in_one_place(
    output: Output,
    chunks: list[str],
    opts: assemble.AssembleOptions,
    stale: frozenset[int],
    parts: int,
) -> Iterator[Row]:
    """Three passes over the staged heads: the published articles; their candidates'
    dedupe; the decisions of each part's chunks, written as that part's file."""
    published = _published_articles(output, chunks, opts, stale)
    n_kept: Counter[str] = Counter()  # article key -> its candidates, then its kept figures
    dropped: dict[str, T.Decision] = {}
    candidates = dedupe.Candidates()  # the clean ones, in columns
    for chunk in chunks:
        for article, figures in _figures(output, chunk, published):
            for figure in figures:
                if not assemble.is_candidate(figure):
                    continue
                n_kept[article["article_key"]] += 1  # the key string published holds
                item = dedupe.item_of(figure)
                # dedupe.decide_all, its decontamination as the items come
                contaminated = dedupe.contamination_decision(
                    item, opts.decontaminate, opts.near_threshold
                )
                if contaminated:
                    dropped[item.key] = contaminated
                else:
                    candidates.add(item)
    dropped.update(dedupe.decide_candidates(candidates, opts.near_threshold))
    del candidates
    trim_heap()
    n_kept.subtract(Counter(article_key_of(key) for key in dropped))
    articles_of: dict[str, list[str]] = defaultdict(list)  # chunk -> its published articles
    for key, record in published.items():
        articles_of[record[_CHUNK]].append(key)
    by_part: dict[int, list[str]] = defaultdict(list)
    for chunk in chunks:
        by_part[staging.stable_hash(chunk) % parts].append(chunk)
    for part, part_chunks in sorted(by_part.items()):
        decisions: list[Row] = []
        for chunk in part_chunks:
            decisions.extend(_figure_decisions(output, chunk, published, dropped))
            for key in articles_of.pop(chunk, ()):
                decisions.append(T.article_decision(_article(published[key]), n_kept[key]))
        if decisions:
            yield T.write_decisions(output.uri, part, decisions)
    del published, dropped, n_kept
    trim_heap()


def _published_articles(
    output: Output, chunks: list[str], opts: assemble.AssembleOptions, stale: frozenset[int]
) -> dict[str, tuple]:
    """article key -> its published record (the _KEPT fields), chosen per PMCID among every
    staged record of it."""
    by_pmcid: dict[str, list[tuple]] = defaultdict(list)
    for chunk in chunks:
        for row in staging.read_chunk_rows(output, chunk, staging.ARTICLES_FILE, T.ARTICLE_HEAD):
            row["chunk"] = sys.intern(row["chunk"])
            by_pmcid[row["pmcid"]].append(tuple(row[c] for c in T.ARTICLE_HEAD))
    published: dict[str, tuple] = {}
    while by_pmcid:
        _, records = by_pmcid.popitem()
        rows = [dict(zip(T.ARTICLE_HEAD, record, strict=True)) for record in records]
        for chosen in assemble.choose_records(rows, opts.all_versions):
            article = assemble.finalize_article(T._refuse_stale(chosen, stale), opts)
            published[article["article_key"]] = tuple(
                sys.intern(v) if type(v) is str and k in ("status", "split") else v
                for k, v in ((k, article[k]) for k in _KEPT)
            )
    return published


def _article(record: tuple) -> Row:
    return dict(zip(_KEPT, record, strict=True))


def _figures(
    output: Output, chunk: str, published: dict[str, tuple]
) -> Iterator[tuple[Row, list[Row]]]:
    """(published article, its figure heads) for each article of a chunk's figures
    (assemble.article_figures: the same generation; marked removed when the article was
    taken down)."""
    rows = staging.read_chunk_rows(output, chunk, staging.FIGURES_FILE, T.FIGURE_HEAD)
    by_article: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row["article_key"] in published:
            by_article[row["article_key"]].append(row)
    for key, figures in by_article.items():
        article = _article(published[key])
        yield article, assemble.article_figures(article, figures)


def _figure_decisions(
    output: Output, chunk: str, published: dict[str, tuple], dropped: dict[str, T.Decision]
) -> Iterator[Row]:
    """The decision rows of a chunk's published figures (as T.decide_article's)."""
    for article, figures in _figures(output, chunk, published):
        for figure in figures:
            decision = dropped.get(figure["key"]) if assemble.is_candidate(figure) else None
            row = assemble.finalize_figure(assemble.apply_decision(figure, decision), article)
            yield T.figure_decision(row)
