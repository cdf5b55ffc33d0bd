"""`write_mirror`: make every article (in parallel), place it, then write the listings and
the truth file.

Each worker makes whole articles and writes their files itself (folders or packages); the
parent only receives small records (listing rows, truth entries) in article order and
writes the listings at the end. Since every article is a pure function of the seed and its
index (or its real file), the tree is byte-identical whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import cast

from pmc_pipeline.mirror import cloud, legacy, real, synthetic
from pmc_pipeline.mirror.bundle import VersionBundle
from pmc_pipeline.mirror.images import NEAR_TRANSFORMS
from pmc_pipeline.mirror.options import MirrorOptions, MirrorSummary
from pmc_pipeline.mirror.truth import FORMAT, TRUTH_NAME, TruthWriter
from pmc_pipeline.model import Layout

SYNTHETIC = "synthetic"
REAL = "real"


@dataclass
class _Result:
    """What a worker reports about one article."""

    entries: list[tuple[dict, list[tuple[str, int]]]] = field(default_factory=list)
    inventory: list[cloud.InventoryRow] = field(default_factory=list)
    file_list: tuple[legacy.FileListRow, bytes] | None = None
    omitted: dict | None = None
    files: int = 0
    bytes: int = 0


# The worker's settings, set once per process by _init (passed to each worker as it starts).
_STATE: dict = {}


def _init(opts: MirrorOptions, root: Path, image_index: real.ImageIndex) -> None:
    _STATE["opts"] = opts
    _STATE["root"] = root
    _STATE["images"] = image_index
    _STATE["ctx"] = synthetic.SyntheticContext(
        seed=opts.seed,
        layout=opts.layout,
        pmcid_base=cast(int, opts.pmcid_base),  # set by MirrorOptions
        snapshot_date=opts.snapshot_date,
        pdf_scale=opts.pdf_scale,
        supplement_scale=opts.supplement_scale,
    )


def _bundles(job: tuple) -> tuple[list[VersionBundle], dict | None]:
    opts: MirrorOptions = _STATE["opts"]
    if job[0] == SYNTHETIC:
        index = job[1]
        bundles = synthetic.synthetic_article(_STATE["ctx"], index)
        omitted = None
        if not bundles and opts.layout == Layout.LEGACY:
            header = synthetic.header_for(_STATE["ctx"], index)
            omitted = {"pmcid": header.pmcid, "index": index, "reason": "not_open_access"}
        return bundles, omitted
    bundle = real.real_article(
        job[1],
        opts.layout,
        opts.seed,
        _STATE["images"],
        opts.snapshot_date,
        opts.pdf_scale,
        opts.supplement_scale,
    )
    return [bundle], None


def _make(job: tuple) -> _Result:
    """Make one article, write its files, report its records (runs in a worker)."""
    root: Path = _STATE["root"]
    bundles, omitted = _bundles(job)
    result = _Result(omitted=omitted)
    for bundle in bundles:
        if _STATE["opts"].layout == Layout.CLOUD:
            inventory_row, files, size = cloud.write_version(root, bundle)
            result.inventory.append(inventory_row)
        else:
            list_row, files, size = legacy.write_package(root, bundle)
            result.file_list = (list_row, bundle.xml)
        result.files += files
        result.bytes += size
        result.entries.append((bundle.truth, bundle.phashes))
    return result


def _jobs(opts: MirrorOptions) -> list[tuple]:
    jobs: list[tuple] = []
    if opts.jats_dir is not None:
        paths = real.discover(opts.jats_dir)
        if opts.n_articles is not None:
            paths = paths[: opts.n_articles]
        jobs = [(REAL, job) for job in real.assign_pmcids(opts.jats_dir, paths, set())]
    total = len(jobs) if opts.n_articles is None else opts.n_articles
    jobs += [(SYNTHETIC, i) for i in range(total - len(jobs))]
    return jobs


def _prepare(out_dir: Path, overwrite: bool) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (overwrite and (out_dir / TRUTH_NAME).is_file()):
            raise FileExistsError(
                f"{out_dir} is not empty; choose a new directory, or overwrite (--overwrite) "
                "to replace a mirror written earlier (a directory holding a truth file)"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def _results(opts: MirrorOptions, root: Path, jobs: list[tuple], image_index) -> Iterator[_Result]:
    """Each job's result, in job order."""
    workers = min(opts.worker_count, max(1, len(jobs)))
    if workers == 1:
        _init(opts, root, image_index)
        yield from map(_make, jobs)
        return
    # Workers start fresh (forkserver, else spawn), never forked from this process: a fork
    # of a process with threads running (gRPC's, once a Beam pipeline has run in it) can
    # abort in the child, and a multiprocessing.Pool whose worker died waits for that
    # worker's results forever. A worker that dies anyway breaks the executor
    # (BrokenProcessPool): an error, not a hang.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init, initargs=(opts, root, image_index)
    ) as pool:
        yield from pool.map(_make, jobs, chunksize=4)


def _progress(results: Iterator[_Result], total: int, enabled: bool) -> Iterator[_Result]:
    if not enabled:
        return results
    from tqdm import tqdm

    return tqdm(results, total=total, unit="article", desc="mirror")


def write_mirror(
    out_dir: str | Path,
    layout: str,
    n_articles: int | None,
    seed: int,
    jats_dir: str | Path | None = None,
    images_dir: str | Path | None = None,
    **options,
) -> MirrorSummary:
    """Write a self-consistent PMC mirror in `layout` ('cloud' or 'legacy') to out_dir.

    n_articles synthetic articles drawn from `seed`; with jats_dir, the real articles
    under it come first (all of them when n_articles is None) and images_dir supplies
    real images for their hrefs. Other options: see MirrorOptions. The truth file,
    out_dir/.mirror-truth.json, is written last: its presence marks a complete mirror.
    """
    unknown = set(options) - MirrorOptions.names()
    if unknown:
        raise TypeError(f"unknown mirror option(s): {', '.join(sorted(unknown))}")
    opts = MirrorOptions(
        layout=layout,
        n_articles=n_articles,
        seed=seed,
        jats_dir=cast(Path | None, jats_dir),  # MirrorOptions makes a Path of a str
        images_dir=cast(Path | None, images_dir),
        **options,
    )
    root = _prepare(Path(out_dir), opts.overwrite)
    jobs = _jobs(opts)
    image_index = real.ImageIndex(opts.images_dir)
    truth = TruthWriter(
        root,
        {"format": FORMAT, "layout": opts.layout, "seed": opts.seed, "options": opts.recorded()},
    )
    listings = (
        legacy.Listings(root, opts.snapshot_date, opts.bulk)
        if opts.layout == Layout.LEGACY
        else None
    )
    inventory: list[cloud.InventoryRow] = []
    omitted: list[dict] = []
    counts = _Counts()
    try:
        for result in _progress(_results(opts, root, jobs, image_index), len(jobs), opts.progress):
            inventory.extend(result.inventory)
            if result.file_list is not None:
                cast(legacy.Listings, listings).add(*result.file_list)  # legacy layout
            if result.omitted is not None:
                omitted.append(result.omitted)
            counts.add(result)
            for entry, phashes in result.entries:
                truth.add(entry, phashes)
        if listings is not None:
            listings.finish()
            counts.files += listings.files
            counts.bytes += listings.bytes
        else:
            files, size = cloud.write_inventories(
                root,
                inventory,
                opts.seed,
                opts.snapshot_date,
                opts.inventory_days,
                opts.inventory_rows_per_file,
            )
            counts.files += files
            counts.bytes += size
    except BaseException:
        truth.abort()
        if listings is not None:
            listings.abort()
        raise
    summary = counts.summary(root, opts.layout, len(omitted), root / TRUTH_NAME)
    truth.close(
        {"omitted": omitted, "summary": _summary_record(summary)}, f"{opts.snapshot_date}T01:00:00Z"
    )
    return summary


@dataclass
class _Counts:
    """What the run wrote, as it goes; its counts are MirrorSummary's of the same names."""

    pmcids: set = field(default_factory=set)
    article_versions: int = 0
    figures: int = 0
    image_files: int = 0
    corrupt_images: int = 0
    missing_images: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    files: int = 0
    bytes: int = 0

    def add(self, result: _Result) -> None:
        self.files += result.files
        self.bytes += result.bytes
        for entry, _ in result.entries:
            self.pmcids.add(entry["pmcid"])
            self.article_versions += 1
            if not entry["latest"]:
                continue
            for figure in entry["figures"]:
                self.figures += 1
                self.image_files += int(bool(figure["image_file"]) and not figure["missing"])
                self.image_files += int(bool(figure["thumbnail_file"]))
                self.corrupt_images += int(bool(figure["corrupt"]))
                self.missing_images += int(figure["missing"])
                kind = figure["duplicate_kind"]
                self.duplicates += int(kind in ("same_bytes", "same_pixels"))
                self.near_duplicates += int(kind in NEAR_TRANSFORMS)

    def summary(self, root: Path, layout: str, omitted: int, truth_path: Path) -> MirrorSummary:
        counted = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "pmcids"}
        return MirrorSummary(
            out_dir=root,
            layout=layout,
            articles=len(self.pmcids),
            omitted=omitted,
            truth_path=truth_path,
            **counted,
        )


def _summary_record(summary: MirrorSummary) -> dict:
    record = {k: v for k, v in summary.__dict__.items() if not isinstance(v, Path)}
    return record
