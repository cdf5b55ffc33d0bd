"""The whole build on each engine: wall time, CPU time and per-process peak memory of extract
and assemble, for Beam in-process (DirectRunner), Beam on a 2-worker Dask cluster
(DaskRunner) and a plain Python loop calling the same library functions, on the same
synthetic mirror at 1,000, 10,000 and 100,000 articles.

    python -m bench build [--sizes 1000,10000,100000] [--seed 7] [--workdir DIR]

Runs are recorded in DIR/bench-build-runs.json as each finishes; the table shows every
recorded run, so sizes may be measured by separate commands on the same workdir.

Each phase of each variant runs in its own child process; a monitor reads every process of
its tree (the launcher, Dask's nannies and workers) from /proc while it runs, so each
process's peak RSS (VmHWM) is its own. CPU time counts the whole tree. The published files
of every variant are compared byte for byte with the plain loop's.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from bench.common import PROJECT_ROOT, machine, table, write_section

BEAM_ARGS = ["--chunk-size", "100"]
VARIANTS = {  # name -> Beam's own options (None: the plain loop)
    "beam in-process": [],
    "beam Dask 2 workers": ["--runner", "DaskRunner", "--dask-workers", "2"],
    "plain loop": None,
}
PHASES = ("extract", "assemble")
# The measurements in full, for bench scale (Beam's CPU over the plain loop's).
MEASURED = PROJECT_ROOT / "docs" / "benchmarks-build.json"


# --- the plain loop: the same library functions, one process, no Beam ----------------------


def plain_extract(root: str, output: str, chunk_size: int = 100) -> None:
    """list -> extract each article -> a staging chunk per chunk_size articles, in order."""
    from pmc_pipeline import staging
    from pmc_pipeline.extract import ExtractOptions, extract_article
    from pmc_pipeline.outputs import Output
    from pmc_pipeline.sources import open_source

    out, source, opts = Output(output), open_source("cloud", root), ExtractOptions()
    refs = iter(source.list_articles())
    for index in itertools.count():
        batch = list(itertools.islice(refs, chunk_size))
        if not batch:
            break
        results = [extract_article(ref, source, opts) for ref in batch]
        staging.write_chunk(out, f"g00001-{index:06d}", results)


def plain_assemble(output: str) -> None:
    """staging -> decisions -> shards and tables, in one process: the newest record of each
    article (the mirror lists newest versions only), dedupe.dedupe over every candidate,
    shards from the JPEGs read back by range."""
    from pmc_pipeline import assemble, dedupe, records, shards, staging
    from pmc_pipeline.assemble import AssembleOptions
    from pmc_pipeline.outputs import Output

    out, opts = Output(output), AssembleOptions()
    chunks = staging.complete_chunks(out)
    articles = {
        a["article_key"]: assemble.finalize_article(a, opts)
        for chunk in chunks
        for a in staging.read_chunk_rows(out, chunk, staging.ARTICLES_FILE)
    }
    columns = [*records.FIGURE_FIELDS, "chunk", "jpeg_offset", "jpeg_crc32"]
    figures = [
        f
        for chunk in chunks
        for f in staging.read_chunk_rows(out, chunk, staging.FIGURES_FILE, columns)
    ]
    candidates = [dedupe.item_of(f) for f in figures if assemble.is_candidate(f)]
    decided = dedupe.dedupe(candidates, opts.near_threshold)
    final = []
    for f in figures:
        status, duplicate_of = decided.get(f["key"], (f["status"], None))
        if status != f["status"]:
            f = assemble.apply_decision(f, (status, dedupe.reason_of(status), duplicate_of))
        final.append(assemble.finalize_figure(f, articles[f["article_key"]]))
    kept = [f for f in final if f["status"] == "kept"]
    per_split: dict[str, int] = defaultdict(int)
    for f in kept:
        per_split[f["split"]] += 1
    groups = defaultdict(list)
    for f in kept:
        index = shards.shard_index(
            f["key"], shards.shard_count(per_split[f["split"]], opts.shard_size)
        )
        pair = records.pair_record(
            f, articles[f["article_key"]], shards.shard_name(f["split"], index)
        )
        groups[(f["split"], index)].append(
            (pair, (f["chunk"], f["jpeg_offset"], f["image_bytes"], f["jpeg_crc32"]))
        )
    for (split, index), located in sorted(groups.items()):
        samples = []
        by_chunk = defaultdict(list)
        for pair, (chunk, offset, length, crc) in located:
            by_chunk[chunk].append((pair, (offset, length, crc)))
        for chunk, wanted in sorted(by_chunk.items()):
            jpegs = staging.read_jpegs(out, chunk, [span for _, span in wanted])
            samples.extend((pair, jpeg) for (pair, _), jpeg in zip(wanted, jpegs, strict=True))
        shards.write_shard(out, split, index, samples)
    n_kept: dict[str, int] = defaultdict(int)
    for f in kept:
        n_kept[f["article_key"]] += 1
    article_rows = [{**a, "n_kept": n_kept[k]} for k, a in articles.items()]
    for kind, rows, key, schema, fields in (
        ("figures", final, "key", "figure", records.FIGURE_FIELDS),
        ("articles", article_rows, "article_key", "article_row", records.ARTICLE_FIELDS),
    ):
        parts = max(1, -(-len(rows) // opts.table_rows_per_file))
        grouped = defaultdict(list)
        for row in rows:
            grouped[staging.stable_hash(row[key]) % parts].append(records.published(row, fields))
        for part, part_rows in grouped.items():
            shards.write_table_part(out, kind, part, part_rows, schema)


# --- measuring --------------------------------------------------------------------------------


class TreeMonitor:
    """Peak RSS (VmHWM) of every process in a tree, read from /proc while it runs."""

    def __init__(self, root_pid: int, every: float = 0.25):
        self.root, self.every = root_pid, every
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (role, peak kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        root = psutil.Process(self.root)
        while not self._stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for proc in tree:
                try:
                    status = Path(f"/proc/{proc.pid}/status").read_text()
                    cmdline = " ".join(proc.cmdline())
                except (OSError, psutil.Error):
                    continue
                hwm = next(
                    (
                        int(line.split()[1])
                        for line in status.splitlines()
                        if line.startswith("VmHWM:")
                    ),
                    0,
                )
                role = _role(proc.pid == self.root, cmdline)
                self.peaks[proc.pid] = (role, max(hwm, self.peaks.get(proc.pid, ("", 0))[1]))
            self._stop.wait(self.every)

    def by_role(self) -> dict[str, float]:
        """Peak MB per role (the largest process of each role)."""
        out: dict[str, float] = {}
        for role, kb in self.peaks.values():
            out[role] = max(out.get(role, 0.0), kb / 1024)
        return out


def _role(is_root: bool, cmdline: str) -> str:
    if is_root:
        return "launcher"
    if "spawn_main" in cmdline or "multiprocessing" in cmdline:
        return "worker"
    return "other"


def measure(variant: str, phase: str, root: Path, output: Path) -> dict:
    """Run one phase of one variant in a child process: wall time, CPU time of its whole
    tree, peak RSS of each of its processes."""
    cmd = [sys.executable, "-m", "bench.bench_build", "--run", json.dumps(VARIANTS[variant]), phase]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(
        [*cmd, str(root), str(output)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeMonitor(child.pid) as monitor:
        stdout, stderr = child.communicate()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode not in (0, 1):  # 1: the build ran, but its accounting identity broke
        raise RuntimeError(f"{variant} {phase} failed:\n{stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": seconds, "cpu": cpu, "rss": monitor.by_role(), "code": child.returncode}


def _child(beam_options: str, phase: str, root: str, output: str) -> None:
    beam_options = json.loads(beam_options)
    if beam_options is None:
        if phase == "extract":
            plain_extract(root, output)
        else:
            plain_assemble(output)
        return
    from beam_jobs.build_dataset import run

    argv = ["--layout", "cloud", "--root", root, "--output", output, "--phase", phase]
    with open(os.devnull, "w") as quiet:
        saved, sys.stdout = sys.stdout, quiet
        try:
            code = run([*argv, *BEAM_ARGS, *beam_options])
        finally:
            sys.stdout = saved
    sys.exit(code)


def published_digests(root: Path) -> dict[str, str]:
    """sha256 of every published shard and Parquet file of an output."""
    digests = {}
    for top in ("webdataset", "parquet"):
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and path.suffix in (".tar", ".parquet"):
                digest = hashlib.sha256()
                with path.open("rb") as f:
                    while block := f.read(1 << 20):
                        digest.update(block)
                digests[str(path.relative_to(root))] = digest.hexdigest()
    return digests


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench build")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma separated")
    parser.add_argument(
        "--workdir", default=None, help="where mirrors and outputs go (default: a temp dir)"
    )
    parser.add_argument(
        "--keep-outputs",
        action="store_true",
        help="keep each variant's output (by default it is removed once measured and "
        "checksummed: at 100,000 articles an output takes about 20 GB)",
    )
    parser.add_argument(
        "--assemble-only",
        action="store_true",
        help="measure the assemble phase again, on the staging a previous run left in "
        "WORKDIR/staged-N (keep one with --keep-outputs and rename it), for every variant; "
        "the extract figures stay those recorded (docs/benchmarks-build.json)",
    )
    args = parser.parse_args(argv)
    from pmc_pipeline.mirror import write_mirror

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-build-"))
    variants = [v.strip() for v in args.variants.split(",")]
    # Every finished run is recorded at once, so sizes can be measured by separate commands
    # (and a long run that stops keeps what it measured); the table shows all recorded runs.
    runs_file = work / "bench-build-runs.json"
    runs = json.loads(runs_file.read_text()) if runs_file.exists() else {}
    if args.assemble_only:  # the recorded runs, with the assemble phases measured again
        again = {k: r for k, r in runs.items() if "remeasured" in r["assemble"]}
        runs = {**_recorded_runs(), **again}
    for n in [int(s) for s in args.sizes.split(",") if s]:
        if args.assemble_only:
            _remeasure_assemble(runs, n, variants, work)
            runs_file.write_text(json.dumps(runs, indent=1) + "\n")
            continue
        mirror = work / f"mirror-{n}"
        if not (mirror / ".mirror-truth.json").exists():
            # PDFs are never read in the cloud layout: small stand-ins save disk, not work.
            write_mirror(mirror, "cloud", n, args.seed, pdf_scale=0.02, supplement_scale=0.1)
        for variant in variants:
            out = work / f"out-{variant.replace(' ', '-')}-{n}"
            shutil.rmtree(out, ignore_errors=True)
            phases = {phase: measure(variant, phase, mirror, out) for phase in PHASES}
            stats_file = out / "stats.json"
            stats = json.loads(stats_file.read_text()) if stats_file.exists() else None
            runs[f"{n}|{variant}"] = {
                "articles": n,
                "engine": variant,
                **phases,
                "identity_holds": None if stats is None else stats["identity"]["holds"],
                "files_sha256": _digest_of(published_digests(out)),
            }
            runs_file.write_text(json.dumps(runs, indent=1) + "\n")
            if not args.keep_outputs:
                shutil.rmtree(out)
            print(n, variant, json.dumps(phases), flush=True)
    ordered = sorted(
        runs.values(), key=lambda r: (r["articles"], list(VARIANTS).index(r["engine"]))
    )
    rows = [_row(run, runs.get(f"{run['articles']}|plain loop")) for run in ordered]
    kept = ("articles", "engine", *PHASES, "identity_holds", "files_sha256")
    measured = [{k: run[k] for k in kept if k in run} for run in ordered]
    MEASURED.write_text(json.dumps({"machine": machine(), "runs": measured}, indent=1) + "\n")
    sizes = ",".join(str(n) for n in sorted({run["articles"] for run in ordered}))
    remeasured = sorted(
        {
            (r["articles"], r["assemble"]["remeasured"])
            for r in ordered
            if "remeasured" in r["assemble"]
        }
    )
    markdown = render(sizes, rows, remeasured)
    print(markdown)
    write_section("build", markdown)


def _recorded_runs() -> dict[str, dict]:
    """The runs docs/benchmarks-build.json records, keyed as the workdir's runs file."""
    if not MEASURED.exists():
        return {}
    runs = json.loads(MEASURED.read_text())["runs"]
    return {f"{r['articles']}|{r['engine']}": {"identity_holds": None, **r} for r in runs}


def _remeasure_assemble(runs: dict[str, dict], n: int, variants: list[str], work: Path) -> None:
    """The assemble phase of each variant again on WORKDIR/staged-N, in place of the one
    recorded for N articles (each variant republishes the same staging)."""
    staged, mirror = work / f"staged-{n}", work / f"mirror-{n}"
    recorded = _recorded_runs()
    if not (staged / "staging").is_dir():
        raise SystemExit(f"no staging at {staged}: run with --keep-outputs first, and rename")
    for variant in variants:
        key = f"{n}|{variant}"
        if key not in runs:
            raise SystemExit(f"no recorded run {key} whose extract to keep: run it whole first")
        assembled = measure(variant, "assemble", mirror, staged)
        stats = json.loads((staged / "stats.json").read_text()) if assembled["code"] == 0 else None
        runs[key] = {
            **runs[key],
            "extract": recorded.get(key, runs[key])["extract"],
            "assemble": {**assembled, "remeasured": time.strftime("%Y-%m-%d")},
            "identity_holds": None if stats is None else stats["identity"]["holds"],
            "files_sha256": _digest_of(published_digests(staged)),
        }
        print(n, variant, json.dumps(assembled), flush=True)


def _digest_of(digests: dict[str, str]) -> str:
    """One sha256 over every published file's name and sha256."""
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def _row(run: dict, reference: dict | None) -> list[object]:
    n, phases = run["articles"], {p: run[p] for p in PHASES}
    wall = sum(p["seconds"] for p in phases.values())
    cpu = sum(p["cpu"] for p in phases.values())
    holds = run["identity_holds"]
    return [
        f"{n:,}",
        run["engine"],
        f"{wall:.0f}",
        f"{n / wall:.1f}",
        f"{cpu:.0f}",
        _rss(phases["extract"]["rss"]),
        _rss(phases["assemble"]["rss"]),
        "—" if holds is None else ("holds" if holds else "**broken**"),
        "—"
        if reference is None
        or run["engine"] == "plain loop"
        or not (run.get("files_sha256") and reference.get("files_sha256"))
        else ("yes" if run["files_sha256"] == reference["files_sha256"] else "**no**"),
    ]


def _rss(by_role: dict[str, float]) -> str:
    return ", ".join(f"{role} {mb:.0f}" for role, mb in sorted(by_role.items()))


def render(sizes: str, rows: list[list[object]], remeasured: list[tuple[int, str]] = ()) -> str:
    """The docs section for the measured rows."""
    again = "".join(
        f" The assemble phase at {n:,} articles was measured again on {day}"
        f" (`python -m bench build --assemble-only --sizes {n}`, on one staging of the same"
        " mirror, WORKDIR/staged-N; every variant republishes it), its extract is the first"
        " run's."
        for n, day in remeasured
    )
    headers = [
        "articles",
        "engine",
        "wall s",
        "articles/s",
        "CPU s",
        "peak RSS MB, extract",
        "peak RSS MB, assemble",
        "identity",
        "same files as the plain loop",
    ]
    return f"""## Build job: engines (in-process, Dask, plain loop)

`python -m bench build --sizes {sizes}` — the whole build (`--phase extract`, then `--phase
assemble`, each in its own process) of a synthetic cloud mirror from a local directory,
`{" ".join(BEAM_ARGS)}`. *beam in-process*: DirectRunner's default (one process); *beam Dask
2 workers*: DaskRunner on a LocalCluster of 2 worker processes the build starts itself;
*plain loop*: one process calling the same library functions (`extract_article`,
`staging.write_chunk`, `dedupe.dedupe`, `shards.write_shard`, ...) in a loop. CPU s counts
every process of the tree; peak RSS is each process's own high-water mark (VmHWM, read from
/proc while it runs), the largest of each role: the launcher (for Dask it also runs the
scheduler) and the workers. Machine: {machine()}.{again}

{table(headers, rows)}
"""


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--run":
        _child(*sys.argv[2:6])
    else:
        main(sys.argv[1:])
