"""The build job: from a PMC root to WebDataset shards, Parquet tables and stats.json.

    python -m beam_jobs.build_dataset --layout cloud --root s3://pmc-oa-opendata \\
        --output gs://bucket/pmc15m --runner DataflowRunner --project P --region R \\
        --temp_location gs://bucket/tmp --setup_file ./setup.py

Two pipelines run one after the other (DESIGN.md, "two phases"):

  extract   list -> skip what staging already holds -> chunk -> fetch + parse + pair + image
            + filter -> staging chunk (Parquet + completion marker). Resumable.
  assemble  staging -> newest record per article -> takedown -> decontaminate -> exact dedupe
            -> near-duplicate dedupe -> split -> shard -> WebDataset + Parquet + stats.json.
            No network, no image decoding; only rows are shuffled: each shard writer reads
            its samples' JPEGs from staging.

Every stage is a library function from pmc_pipeline; this file only wires them together.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from beam_jobs import transforms as T
from beam_jobs.config import BuildConfig, config_from_options
from beam_jobs.logs import configure_logging
from beam_jobs.options import BuildOptions
from pmc_pipeline import manifest, staging
from pmc_pipeline.hub import write_hub_files
from pmc_pipeline.outputs import Output

log = logging.getLogger("pmc_pipeline.build")


def extract_pipeline(pipeline: beam.Pipeline, cfg: BuildConfig, generation: int, done_chunks):
    """list -> resume filter -> chunk -> extract -> staging."""
    refs = (
        pipeline
        | "Seed" >> beam.Create([None])
        | "List" >> beam.ParDo(T.ListArticles(cfg.source, cfg.listing))
        | "KeyRefs" >> beam.Map(lambda ref: (ref.key, ref))
    )
    done = (
        pipeline
        | "DoneChunks" >> beam.Create(done_chunks)
        | "ReadDone"
        >> beam.ParDo(T.ReadStaging(cfg.output, staging.ARTICLES_FILE, staging.DONE_COLUMNS))
        | "KeyDone" >> beam.Map(lambda row: (row["article_key"], row))
    )
    todo = (
        {"ref": refs, "done": done}
        | "JoinDone" >> beam.CoGroupByKey()
        | "Todo" >> beam.FlatMap(T.refs_to_extract, retry_failed=cfg.retry_failed)
    )
    n_todo = todo | "CountTodo" >> beam.combiners.Count.Globally()
    return (
        todo
        | "Chunk"
        >> beam.Map(T.assign_chunk, generation, cfg.chunk_size, beam.pvalue.AsSingleton(n_todo))
        | "GroupChunks" >> beam.GroupByKey()
        | "Extract"
        >> beam.ParDo(T.ExtractChunk(cfg.source, cfg.extract, cfg.output, cfg.fetch_threads))
    )


def assemble_pipeline(pipeline: beam.Pipeline, cfg: BuildConfig, chunks: list[str]):
    """staging -> decisions -> published shards, tables and stats.json."""
    opts = cfg.assemble
    chunk_ids = pipeline | "Chunks" >> beam.Create(chunks) | "SpreadChunks" >> beam.Reshuffle()

    articles = (
        chunk_ids
        | "ReadArticles" >> beam.ParDo(T.ReadStaging(cfg.output, staging.ARTICLES_FILE))
        | "ChooseArticles" >> T.ChooseArticles(opts)
    )
    figures = (
        {
            "article": articles | "KeyArticles" >> beam.Map(lambda a: (a["article_key"], a)),
            "figures": chunk_ids
            | "ReadFigures"
            >> beam.ParDo(T.ReadStaging(cfg.output, staging.FIGURES_FILE, T.FIGURE_COLUMNS))
            | "KeyFigures" >> beam.Map(lambda f: (f["article_key"], f)),
        }
        | "JoinArticles" >> beam.CoGroupByKey()
        | "ArticleFigures" >> beam.FlatMap(T.figures_of_article)
    )
    final = figures | "Dedupe" >> T.Dedupe(opts)

    kept = final | "Kept" >> beam.Filter(lambda pair: pair[0]["status"] == "kept")
    per_split = (
        kept
        | "SplitOf" >> beam.Map(lambda pair: pair[0]["split"])
        | "CountSplits" >> beam.combiners.Count.PerElement()
    )
    shard_summaries = (
        kept
        | "ToPairs" >> beam.Map(T.to_pair, opts.shard_size, beam.pvalue.AsDict(per_split))
        | "GroupShards" >> beam.GroupByKey()
        | "WriteShards" >> beam.ParDo(T.WriteShard(cfg.output))
    )

    figure_rows = final | "FigureRows" >> beam.Map(lambda pair: pair[0])
    kept_per_article = (
        kept
        | "ArticleOfKept" >> beam.Map(lambda pair: pair[0]["article_key"])
        | "CountKept" >> beam.combiners.Count.PerElement()
    )
    article_rows = (
        {
            "article": articles | "KeyArticles2" >> beam.Map(lambda a: (a["article_key"], a)),
            "kept": kept_per_article,
        }
        | "JoinKept" >> beam.CoGroupByKey()
        | "WithKept" >> beam.FlatMap(T.with_n_kept)
    )
    figure_parts = figure_rows | "WriteFigures" >> T.WriteTable(
        cfg.output, "figures", "figure", opts
    )
    article_parts = article_rows | "WriteArticles" >> T.WriteTable(
        cfg.output, "articles", "article_row", opts
    )

    return (
        pipeline
        | "StatsSeed" >> beam.Create([None])
        | "WriteStats"
        >> beam.ParDo(
            T.WriteStats(cfg.output, cfg.options_for_stats()),
            articles=beam.pvalue.AsList(article_rows | "ArticleCounts" >> T.CountStatuses()),
            figures=beam.pvalue.AsList(figure_rows | "FigureCounts" >> T.CountStatuses()),
            shard_summaries=beam.pvalue.AsList(shard_summaries),
            article_parts=beam.pvalue.AsList(article_parts),
            figure_parts=beam.pvalue.AsList(figure_parts),
            bytes_read=beam.pvalue.AsList(
                article_rows
                | "BytesRead" >> beam.Map(lambda a: a["bytes_read"])
                | beam.CombineGlobally(sum)
            ),
        )
    )


def _extract_accounting(result) -> str | None:
    """Articles listed = skipped (already staged) + staged by this run, from the job's own
    counters; the problem when it does not hold."""
    counters = {
        (c.key.metric.namespace, c.key.metric.name): c.committed
        for c in result.metrics().query(MetricsFilter())["counters"]
    }
    listed, skipped, staged = (counters.get(name, 0) for name in (T.LISTED, T.SKIPPED, T.STAGED))
    log.info(
        "extract: %d articles listed, %d already staged, %d staged now", listed, skipped, staged
    )
    if listed != skipped + staged:
        return f"{listed} listed != {skipped} already staged + {staged} staged now"
    return None


def parse_options(argv: list[str]) -> tuple[BuildOptions, PipelineOptions]:
    """Our options, and the pipeline options without them: workers then see only Beam's
    own flags (and do not warn about ours)."""
    parser = argparse.ArgumentParser(add_help=False)
    BuildOptions._add_argparse_args(parser)
    _, beam_argv = parser.parse_known_args(argv)
    return BuildOptions(argv), PipelineOptions(beam_argv)


def _warn_about_local_multi_worker(options: PipelineOptions) -> None:
    """Beam's DirectRunner drops elements in its multi-worker modes once enough data moves
    (reproduced with Beam's own transforms on apache-beam 2.60 and 2.77; see
    docs/benchmarks.md, "Build job"). The accounting identity catches it, but say so first."""
    runner = options.view_as(StandardOptions).runner
    direct = options.view_as(DirectOptions)
    local = runner in (None, "DirectRunner", "SwitchingDirectRunner")
    if local and (direct.direct_running_mode != "in_memory" or direct.direct_num_workers != 1):
        log.warning(
            "DirectRunner with %s workers in %s mode can drop elements on large builds (a Beam "
            "bug); the accounting identity will fail such a build. For local builds prefer the "
            "default in-process mode; run parallel builds on Dataflow, Spark or Flink.",
            direct.direct_num_workers,
            direct.direct_running_mode,
        )


def run(argv: list[str] | None = None) -> int:
    """Parse options, run the phases, print the summary; exit code 1 when the accounting
    identity does not hold."""
    argv = sys.argv[1:] if argv is None else argv
    build_options, options = parse_options(argv)
    cfg = config_from_options(build_options)
    _warn_about_local_multi_worker(options)
    output = Output(cfg.output)
    started = time.perf_counter()

    if build_options.phase in ("all", "extract"):
        removed = staging.remove_incomplete_chunks(output)
        if removed:
            log.info("removed %d incomplete chunks of an interrupted run", len(removed))
        done_chunks = staging.complete_chunks(output)
        generation = staging.next_generation(output)
        log.info("extract: generation %d, %d chunks already staged", generation, len(done_chunks))
        pipeline = beam.Pipeline(options=options)
        extract_pipeline(pipeline, cfg, generation, done_chunks)
        result = pipeline.run()
        result.wait_until_finish()
        problem = _extract_accounting(result)
        if problem:
            log.error("extract lost articles: %s; rerun to extract them", problem)
            return 1

    if build_options.phase in ("all", "assemble"):
        chunks = staging.complete_chunks(output)
        log.info("assemble: %d staging chunks", len(chunks))
        with beam.Pipeline(options=options) as p:
            assemble_pipeline(p, cfg, chunks)
        stats = output.read_json(manifest.STATS_FILE)
        hub_files = write_hub_files(output, stats)  # README.md, croissant.json: docs/hub.md
        print(manifest.summary(stats, time.perf_counter() - started))
        print(f"hub files: {', '.join(hub_files)}")
        print(f"output: {cfg.output}")
        return 0 if stats["identity"]["holds"] else 1
    return 0


if __name__ == "__main__":
    configure_logging()
    sys.exit(run())
