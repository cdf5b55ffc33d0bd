"""The build job: from a PMC root to WebDataset shards, Parquet tables and stats.json.

    python -m beam_jobs.build_dataset --layout cloud --root s3://pmc-oa-opendata \\
        --output gs://bucket/pmc15m --runner DataflowRunner --project P --region R \\
        --temp_location gs://bucket/tmp --setup_file ./setup.py

The launcher (this file) drives four Beam pipelines and does the sequential work between
them, under the output's lock (docs/design.md, "The build"; docs/running.md):

  extract   launcher: staging ledger checks -> listing -> resume rule -> plan (plan.py)
            pipeline "extract": planned chunks -> fetch + parse + pair + image + filter ->
              staging
            launcher: every planned chunk staged? (accounting) -> ledger
  assemble  launcher: ledger checks (finished extract, same options, every chunk present)
            pipeline "decide": staging heads (checksummed) -> newest record per article ->
              takedown -> decontaminate -> exact dedupe -> near dedupe -> split ->
              decisions by chunk + counts
            launcher: failed-fetch threshold; the destination files and their groups
            pipeline "spread": each part's chunks, decided -> rows by destination group
            launcher: begin publishing (old publication removed)
            pipeline "publish": each group's shards (JPEGs read from staging by range) and
              table parts
            launcher: count what is on disk -> identity -> sizes.json -> stats.json

Every stage is a library function from pmc_pipeline; the pipelines only wire them together,
with Beam primitives only (no side inputs), so they run on DirectRunner, DaskRunner and
Dataflow alike.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    PortableOptions,
    StandardOptions,
    TestOptions,
)

from beam_jobs import engines, one_place
from beam_jobs import options as options_module
from beam_jobs import transforms as T
from beam_jobs.config import BuildConfig, config_from_options
from beam_jobs.logs import configure_logging
from beam_jobs.options import OptionError
from beam_jobs.progress import ExtractProgress
from pmc_pipeline import dedupe, extract, ledger, manifest, plan, publish, shards, staging
from pmc_pipeline.arrow_memory import use_system_pool
from pmc_pipeline.lock import OutputLock, OutputLocked
from pmc_pipeline.model import ArticleRef, FetchError, LayoutError, ListingError
from pmc_pipeline.outputs import Output
from pmc_pipeline.sources import read_pmcid_file
from pmc_pipeline.sources.base import Source

log = logging.getLogger("pmc_pipeline.build")

DECIDED_FILE = f"{publish.WORK_DIR}/decided.json"
SPREAD_FILE = f"{publish.WORK_DIR}/spread.json"
WRITTEN_FILE = f"{publish.WORK_DIR}/written.json"


class BuildFailed(Exception):
    """The build cannot go on; the message is the one line the user sees (exit 1)."""


# --- the pipelines ------------------------------------------------------------------------


def extract_pipeline(
    pipeline: beam.Pipeline, cfg: BuildConfig, planned: Sequence[plan.PlannedChunk]
) -> beam.PCollection:
    """planned chunks -> extract -> staging (each chunk's marker is its output)."""
    return (
        pipeline
        | "Chunks" >> beam.Create(list(planned))
        | "Spread" >> beam.Reshuffle()
        | "Extract"
        >> beam.ParDo(T.ExtractChunk(cfg.source, cfg.extract, cfg.output, cfg.fetch_threads))
    )


def decide_pipeline(
    pipeline: beam.Pipeline,
    cfg: BuildConfig,
    chunks: list[str],
    stale: frozenset[int],
    expected_figures: int | None = None,
) -> beam.PCollection:
    """staging (heads only) -> every published decision, by chunk, + summaries. Up to
    dedupe.IN_ONE_PLACE_UP_TO expected figures, one task streams the heads (one_place.py:
    the dedupe is in one group at that size anyway, and a process then holds a few hundred
    bytes per figure, not every PCollection); beyond, the heads flow through the runner's
    shuffles."""
    opts = cfg.assemble
    if expected_figures is not None and expected_figures <= dedupe.IN_ONE_PLACE_UP_TO:
        written = (
            pipeline
            | "AllChunks" >> beam.Create([chunks])
            | "DecideInOnePlace"
            >> beam.ParDo(
                one_place.DecideInOnePlace(cfg.output, opts, stale, decision_parts(chunks))
            )
        )
        return T.summarise(written, cfg.output, DECIDED_FILE)
    chunk_ids = pipeline | "Chunks" >> beam.Create(chunks) | "SpreadChunks" >> beam.Reshuffle()
    articles = (
        chunk_ids
        | "ReadArticles"
        >> beam.ParDo(T.ReadStaging(cfg.output, staging.ARTICLES_FILE, T.ARTICLE_HEAD))
        | "ChooseArticles" >> T.ChooseArticles(opts, stale)
    )
    # (article_key, (published article, its figures)): the unit the rest works on.
    groups = (
        {
            "article": articles | "KeyArticles" >> beam.Map(lambda a: (a["article_key"], a)),
            "figures": chunk_ids
            | "ReadFigures"
            >> beam.ParDo(T.ReadStaging(cfg.output, staging.FIGURES_FILE, T.FIGURE_HEAD))
            | "KeyFigures" >> beam.Map(lambda f: (f["article_key"], f)),
        }
        | "JoinArticles" >> beam.CoGroupByKey()
        | "ArticleGroups" >> beam.FlatMap(T.article_group)
    )
    decisions = (
        groups
        | "Items" >> beam.FlatMap(T.candidate_items)
        | "Dedupe" >> T.Dedupe(opts, expected_figures)
    )
    decided = (
        {"group": groups, "decision": decisions}
        | "JoinDecisions" >> beam.CoGroupByKey()
        | "DecideArticles" >> beam.FlatMap(T.decide_article)
    )
    written = decided | "WriteDecisions" >> T.WriteDecisions(cfg.output, decision_parts(chunks))
    return T.summarise(written, cfg.output, DECIDED_FILE)


def decision_parts(chunks: list[str]) -> int:
    """Parts of the decisions (each the chunks the publish pipeline reads in one task)."""
    return max(1, math.ceil(len(chunks) / 8))


def destinations(cfg: BuildConfig, decided: dict[str, Any]) -> tuple[dict[str, int], list[str]]:
    """The parts of each table and every published file's destination name (the launcher
    knows them all from the decide pipeline's counts)."""
    opts = cfg.assemble
    parts = {
        kind: T.table_parts(decided["rows"][kind], opts.table_rows_per_file)
        for kind in ("figures", "articles")
    }
    names = [T.destination_name((kind, p)) for kind, n in parts.items() for p in range(n)]
    for split, n in sorted(decided["kept_per_split"].items()):
        count = shards.shard_count(n, opts.shard_size)
        names += [T.destination_name(("shard", split, index)) for index in range(count)]
    return parts, names


def write_groups(names: list[str], parallelism: int) -> dict[str, int]:
    """Destination -> group: enough groups to keep every worker busy, few enough that the
    spread files (one per part and group) stay countable."""
    groups = max(1, min(len(names), max(4 * parallelism, math.ceil(len(names) / 32))))
    return {name: i % groups for i, name in enumerate(names)}


def spread_pipeline(
    pipeline: beam.Pipeline, cfg: BuildConfig, decided: dict[str, Any], group_of: dict[str, int]
) -> beam.PCollection:
    """decisions -> each part's published rows, decided, in files by destination group."""
    opts = cfg.assemble
    parts, _ = destinations(cfg, decided)
    spread = T.Spread(cfg.output, opts.shard_size, decided["kept_per_split"], parts, group_of)
    written = (
        pipeline
        | "DecisionParts" >> beam.Create(decided["paths"])
        | "SpreadParts" >> beam.Reshuffle()
        | "Spread" >> beam.ParDo(spread)
    )
    return T.summarise(written, cfg.output, SPREAD_FILE)


def publish_pipeline(
    pipeline: beam.Pipeline, cfg: BuildConfig, spread: list[dict[str, Any]]
) -> beam.PCollection:
    """the spread files of each group -> the group's published shards and table parts."""
    by_group: dict[int, list[str]] = {}
    for entry in spread:
        by_group.setdefault(entry["group"], []).append(entry["path"])
    written = (
        pipeline
        | "Groups" >> beam.Create(sorted(by_group.items()))
        | "SpreadGroups" >> beam.Reshuffle()
        | "WriteGroups" >> beam.ParDo(T.WriteGroup(cfg.output))
    )
    return T.summarise(written, cfg.output, WRITTEN_FILE)


# --- the launcher -------------------------------------------------------------------------


def parse_options(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options (checked: OptionError on a bad one), and Beam's arguments without them:
    workers then see only Beam's own flags (and do not warn about ours)."""
    return options_module.parse_args(argv)


def _warn_about_local_multi_worker(options: PipelineOptions) -> None:
    """Beam's DirectRunner drops elements in its multi-worker modes once enough data moves
    (reproduced with Beam's own transforms on apache-beam 2.60 and 2.77; see
    docs/benchmarks.md, "Build job"). The checks on disk catch it, but say so first."""
    runner = options.view_as(StandardOptions).runner
    direct = options.view_as(DirectOptions)
    local = runner in (None, "DirectRunner", "SwitchingDirectRunner")
    if local and (direct.direct_running_mode != "in_memory" or direct.direct_num_workers != 1):
        log.warning(
            "DirectRunner with %s workers in %s mode can drop elements on large builds (a Beam "
            "bug); the build's checks on disk will fail such a build. For local builds prefer "
            "the default in-process mode, or DaskRunner for several processes.",
            direct.direct_num_workers,
            direct.direct_running_mode,
        )


def run(argv: list[str] | None = None) -> int:
    """Parse options, take the output's lock, run the phases, print the summary. Exit code
    2 for a bad option; 1 when the output is locked, staging cannot be used, too many
    fetches failed, or the accounting identity does not hold."""
    argv = sys.argv[1:] if argv is None else argv
    use_system_pool()  # the launcher, and an in-process runner's DoFns (arrow_memory.py)
    try:
        build_options, beam_argv = parse_options(argv)
        cfg = config_from_options(build_options)
    except OptionError as exc:
        print(f"pmc-pipeline build: error: {exc}", file=sys.stderr)
        return 2
    _warn_about_local_multi_worker(PipelineOptions(beam_argv))
    if PipelineOptions(beam_argv).view_as(TestOptions).dry_run:
        return translate_only(cfg, beam_argv)
    if build_options.phase in ("all", "extract"):
        problem = _root_problem(cfg)
        if problem:
            print(f"pmc-pipeline build: error: {problem}", file=sys.stderr)
            return 2
    output = Output(cfg.output)
    problem = _output_problem(output)
    if problem:
        print(f"pmc-pipeline build: error: {problem}", file=sys.stderr)
        return 2
    lock = OutputLock(output)
    try:
        lock.acquire()
    except OutputLocked as exc:
        print(f"pmc-pipeline build: {exc}", file=sys.stderr)
        return 1
    try:
        with engines.engine(beam_argv, build_options.dask_workers) as engine:
            return _run_phases(build_options.phase, cfg, engine, output)
    except (BuildFailed, staging.StagingError, ListingError) as exc:
        print(f"pmc-pipeline build: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()


OUTPUT_PROBE_SECONDS = 20.0


def _output_problem(output: Output, seconds: float = OUTPUT_PROBE_SECONDS) -> str | None:
    """Why the output cannot be reached (no credentials, no network, no such bucket), found
    within `seconds`: an object store's client may otherwise retry for many minutes."""

    def probe() -> None:
        output.fs.get_file_info(output.path())

    return _probe(probe, f"cannot reach --output {output.uri}", seconds, catch=(Exception,))


def _root_problem(cfg: BuildConfig, seconds: float = OUTPUT_PROBE_SECONDS) -> str | None:
    """Why the root cannot be read as --layout says (a missing directory, a legacy root read
    as cloud or the reverse, a store that cannot be reached), found before any work and
    within `seconds`; None when it can."""

    def probe() -> None:
        cfg.source.open().check_root()

    return _probe(probe, f"cannot read --root {cfg.source.root}", seconds)


def _probe(
    check: Callable[[], None],
    what: str,
    seconds: float,
    catch: tuple[type[BaseException], ...] = (ListingError, FetchError),
) -> str | None:
    """Run `check` in a thread for at most `seconds`: None when it passes, else why not, in
    one line. A layout error is its own message; any other failure follows `what`."""
    found: list[str | None] = []

    def run_check() -> None:
        try:
            check()
            found.append(None)
        except LayoutError as exc:
            found.append(" ".join(str(exc).split()))
        except catch as exc:
            found.append(f"{what}: {' '.join(str(exc).split())}")

    worker = threading.Thread(target=run_check, name="probe", daemon=True)
    worker.start()
    worker.join(seconds)
    if not found:
        return f"{what}: no answer within {seconds:g} s"
    return found[0]


def translate_only(cfg: BuildConfig, beam_argv: list[str]) -> int:
    """`--dry_run=True` (Beam's test option): build and hand each of the build's four
    pipelines to the runner, with a one-chunk stand-in for what the launcher would compute,
    and stop there. DataflowRunner then translates each exactly as for a submission (graph,
    coders, pickled DoFns; nothing staged, nothing sent); nothing is listed, read or
    written."""
    engine = engines.Engine(beam_argv)
    runner = engines.runner_of(beam_argv) or "DirectRunner"
    if "Dataflow" not in runner:
        print(
            f"pmc-pipeline build: error: --dry_run translates for DataflowRunner only; "
            f"{runner} would run the job",
            file=sys.stderr,
        )
        return 2
    chunk = plan.PlannedChunk("g00001-000000", f"{plan.plan_dir(1)}/plan-00000.parquet", 0, 1)
    decided = {
        "paths": [f"{publish.WORK_DIR}/decisions/part-00000.parquet"],
        "rows": {"figures": 1, "articles": 1, "kept": 1},
        "kept_per_split": dict.fromkeys(cfg.assemble.fractions, 1),
    }
    group_of = write_groups(destinations(cfg, decided)[1], 1)
    spread = [{"group": 0, "path": f"{publish.WORK_DIR}/spread/g00000/shard-00000.arrow"}]
    for name, build in (
        ("extract", lambda p: extract_pipeline(p, cfg, [chunk])),
        ("decide", lambda p: decide_pipeline(p, cfg, [chunk.chunk], frozenset())),
        ("spread", lambda p: spread_pipeline(p, cfg, decided, group_of)),
        ("publish", lambda p: publish_pipeline(p, cfg, spread)),
    ):
        pipeline = engine.pipeline(1)
        build(pipeline)
        result = pipeline.run()
        job = getattr(result, "job", None)
        proto = getattr(job, "proto_pipeline", None)
        steps = len(proto.components.transforms) if proto is not None else "?"
        size = proto.ByteSize() if proto is not None else "?"
        print(f"{name}: translated for {runner}: {steps} transforms, {size} bytes of pipeline")
    return 0


def _run_phases(phase: str, cfg: BuildConfig, engine: engines.Engine, output: Output) -> int:
    started = time.perf_counter()
    if phase in ("all", "extract"):
        run_extract(cfg, engine, output)
    if phase in ("all", "assemble"):
        stats = run_assemble(cfg, engine, output)
        print(manifest.summary(stats, time.perf_counter() - started))
        print(f"output: {cfg.output} (dataset card: README.md, croissant.json)")
        return 0 if stats["identity"]["holds"] else 1
    return 0


def _run(pipeline: beam.Pipeline, engine: engines.Engine) -> None:
    """Run a pipeline to its end; a failure inside it becomes BuildFailed with the error's
    own message (a StagingError from a worker names the chunk)."""
    result = None
    try:
        result = pipeline.run()
        result.wait_until_finish()
    except Exception as exc:  # noqa: BLE001 - whatever a worker raised, reported in one line
        message = _no_job_server(exc, engine.beam_argv) or _root_message(exc)
        raise BuildFailed(f"the pipeline failed: {message}") from exc
    finally:
        if result is not None:
            engine.finished(result)


def _no_job_server(exc: BaseException, beam_argv: list[str]) -> str | None:
    """What a timeout waiting for a job server means, said in words: gRPC's
    FutureTimeoutError, raised after --job_server_timeout (Beam's default 300 s) when nothing
    answers at --job_endpoint, has no message of its own."""
    chain: list[BaseException] = [exc]
    while (
        inner := chain[-1].__cause__ or chain[-1].__context__
    ) is not None and inner not in chain:
        chain.append(inner)
    if not any("Timeout" in type(e).__name__ for e in chain):
        return None
    options = PipelineOptions(beam_argv).view_as(PortableOptions)
    if not options.job_endpoint:
        return None
    return (
        f"no job server answered at {options.job_endpoint} within "
        f"{options.job_server_timeout:g} s (--job_server_timeout): is it running?"
    )


def _root_message(exc: BaseException) -> str:
    """The innermost error's message: runners wrap a worker's exception in their own."""
    text = str(exc)
    for name in ("StagingError: ", "ImageError: "):
        if name in text:
            return text.rsplit(name, 1)[1].strip().splitlines()[0]
    while exc.__cause__ is not None:
        exc = exc.__cause__
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def run_extract(cfg: BuildConfig, engine: engines.Engine, output: Output) -> None:
    shaped_by = extract.shaped_by(cfg.extract)
    generations = ledger.read(output)
    redo = ledger.check_options(generations, shaped_by, cfg.force_reextract)
    removed = staging.remove_incomplete_chunks(output)
    if removed:
        log.info("removed %d incomplete chunks of an interrupted run", len(removed))
    done_chunks = staging.complete_chunks(output)
    number = staging.next_generation(output)
    if generations:
        number = max(number, max(generations) + 1)
    source = cfg.source.open()
    the_plan = plan.make_plan(
        output,
        _listing(cfg, source),
        done_chunks=done_chunks,
        generation=number,
        chunk_size=cfg.chunk_size,
        retry_failed=cfg.retry_failed,
        redo_generations=redo,
    )
    ledger.start(
        output,
        generations,
        number,
        shaped_by,
        the_plan.listed,
        the_plan.todo,
        source.listed_from,
    )
    log.info(
        "extract: generation %d, %d chunks already staged, %d articles to extract",
        number,
        len(done_chunks),
        the_plan.todo,
    )
    if the_plan.chunks:
        pipeline = engine.pipeline(len(the_plan.chunks))
        extract_pipeline(pipeline, cfg, the_plan.chunks)
        with ExtractProgress(output, the_plan) as progress:
            _run(pipeline, engine)
        log.info("%s", progress.status())
    problem = _extract_accounting(output, the_plan)
    if problem:
        raise BuildFailed(f"extract lost articles: {problem}; rerun to extract them")
    plan.remove_plan(output)
    lost = ledger.complete(output, generations)
    if lost:
        log.warning(
            "%d staging chunks listed in the ledger were gone (%s...); their articles were "
            "extracted again where this run's listing names them",
            len(lost),
            lost[0],
        )


def _listing(cfg: BuildConfig, source: Source) -> Iterator[ArticleRef]:
    listing = cfg.listing
    pmcids = read_pmcid_file(listing.pmcids_file) if listing.pmcids_file else None
    refs = source.list_articles(
        since=listing.since, pmcids=pmcids, all_versions=listing.all_versions
    )
    for i, ref in enumerate(refs):
        if listing.limit is not None and i >= listing.limit:
            break
        yield ref


def _extract_accounting(output: Output, the_plan: plan.Plan) -> str | None:
    """Articles listed = already staged + staged now + listed twice, from the plan and the
    markers of the chunks this run staged; the problem when it does not hold."""
    planned = {c.chunk: c.articles for c in the_plan.chunks}
    staged = {c for c in staging.complete_chunks(output) if c in planned}
    missing = sorted(set(planned) - staged)
    counts = {c: staging.read_marker(output, c)["articles"] for c in staged}
    wrong = sorted(c for c, n in counts.items() if n != planned[c])
    n_staged = sum(counts.values())
    log.info(
        "extract: %d articles listed, %d already staged, %d staged now",
        the_plan.listed,
        the_plan.skipped,
        n_staged,
    )
    if missing or wrong:
        detail = f"chunk {(missing or wrong)[0]} " + ("not staged" if missing else "miscounted")
        return (
            f"{the_plan.listed} listed != {the_plan.skipped} already staged + {n_staged} "
            f"staged now ({detail})"
        )
    return None


def run_assemble(cfg: BuildConfig, engine: engines.Engine, output: Output) -> dict[str, Any]:
    shaped_by = extract.shaped_by(cfg.extract)
    generations = ledger.read(output)
    chunks = ledger.check_for_assemble(output, generations, shaped_by)
    stale = frozenset(g.number for g in ledger.stale(generations, ledger.fingerprint(shaped_by)))
    log.info("assemble: %d staging chunks", len(chunks))
    output.delete_dir(publish.WORK_DIR)

    pipeline = engine.pipeline(engine.parallelism)
    # Staged articles (the ledger's counts) x a generous figures-per-article: only the cost
    # of near dedupe depends on it (dedupe.band_depth), never the result.
    expected_figures = 10 * sum(g.planned for g in generations.values())
    decide_pipeline(pipeline, cfg, chunks, stale, expected_figures)
    _run(pipeline, engine)
    decided = _decided(output)
    log.info(
        "assemble: decided %d articles, %d figures, %d pairs",
        decided["rows"]["articles"],
        decided["rows"]["figures"],
        decided["rows"]["kept"],
    )
    _check_failures(decided, cfg.max_failed_fraction)

    _, names = destinations(cfg, decided)
    group_of = write_groups(names, engine.parallelism)
    pipeline = engine.pipeline(len(decided["paths"]))
    spread_pipeline(pipeline, cfg, decided, group_of)
    _run(pipeline, engine)

    publish.begin(output)
    pipeline = engine.pipeline(max(group_of.values(), default=0) + 1)
    publish_pipeline(pipeline, cfg, output.read_json(SPREAD_FILE))
    _run(pipeline, engine)
    written = output.read_json(WRITTEN_FILE)
    log.info("assemble: wrote %d files; checking them on disk", len(written))
    on_disk = publish.verify(
        output,
        [w for w in written if "shard" in w],
        [w for w in written if "part" in w],
    )
    stats = manifest.build_stats(
        manifest.status_block(decided["statuses"]["articles"]),
        manifest.status_block(decided["statuses"]["figures"]),
        on_disk.shards,
        articles_listed=on_disk.tables.get("articles", 0),
        figures_seen=on_disk.tables.get("figures", 0),
        bytes_read=decided["bytes_read"],
        options=cfg.options_for_stats(),
        problems=on_disk.problems,
        build=manifest.build_info(generations[max(generations)].listing if generations else None),
    )
    publish.finish(output, stats, on_disk.sizes())
    return stats


def _decided(output: Output) -> dict[str, Any]:
    """The decide pipeline's summaries, added up."""
    summaries = output.read_json(DECIDED_FILE)
    decided: dict[str, Any] = {
        "paths": sorted(s["path"] for s in summaries),
        "rows": {"figures": 0, "articles": 0},
        "statuses": {"figures": [], "articles": []},
        "kept_per_split": {},
        "bytes_read": 0,
    }
    for s in summaries:
        for kind, n in s["rows"].items():
            decided["rows"][kind] += n
        for kind, status, reason, n in s["statuses"]:
            decided["statuses"][f"{kind}s"].append(((status, reason), n))
        for split, n in s["per_split"].items():
            decided["kept_per_split"][split] = decided["kept_per_split"].get(split, 0) + n
        decided["bytes_read"] += s["bytes_read"]
    decided["rows"]["kept"] = sum(decided["kept_per_split"].values())
    return decided


def _check_failures(decided: dict[str, Any], max_fraction: float) -> None:
    """Refuse to publish when too many articles failed in a way a rerun may mend."""
    total = failed = 0
    for (status, reason), n in decided["statuses"]["articles"]:
        total += n
        if staging.is_retryable(status, reason):
            failed += n
    if total and failed / total > max_fraction:
        raise BuildFailed(
            f"{failed} of {total} articles ({failed / total:.1%}) failed to fetch or hit an "
            f"internal error, above --max-failed-fraction {max_fraction:g}: nothing was "
            "published; rerun with --retry-failed"
        )


if __name__ == "__main__":
    configure_logging()
    sys.exit(run())
