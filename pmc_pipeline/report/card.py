"""write_card: a build's OUTPUT -> OUTPUT/card/ (index.html, plots/*.png, img/*.jpg).

The card is written into a fresh folder beside the target and moved into place at the end,
so a reader never sees half a card and thumbnails of an earlier card do not linger.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pmc_pipeline.outputs import Output
from pmc_pipeline.report.charts import all_charts
from pmc_pipeline.report.clusters import DEFAULT_CLUSTERS, ClusterSummary, read_clusters
from pmc_pipeline.report.data import (
    ReportError,
    load_stats,
    read_figure_statuses,
    read_pair_overview,
)
from pmc_pipeline.report.gallery import (
    DEFAULT_PER_SPLIT,
    DEFAULT_PER_TYPE,
    read_gallery,
    read_type_gallery,
)
from pmc_pipeline.report.html import Page, render
from pmc_pipeline.report.jpegs import staging_present
from pmc_pipeline.report.plots import render_png
from pmc_pipeline.report.thumbs import ThumbnailError, thumbnail

CARD = "card"
INDEX = "index.html"
# What a card folder holds; an existing folder with anything else is not replaced.
CARD_ENTRIES = {INDEX, "plots", "img"}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def write_card(
    output_uri: str | os.PathLike,
    dest: str | os.PathLike | None = None,
    *,
    per_split: int = DEFAULT_PER_SPLIT,
    per_type: int = DEFAULT_PER_TYPE,
    clusters: int = DEFAULT_CLUSTERS,
    seed: int = 0,
) -> Path:
    """Write the data card of the build at output_uri and return its index.html.

    The card goes to OUTPUT/card/ for a local build; `dest` (a local folder) puts it
    elsewhere, and is required for a build on s3:// or gs://. `per_split` pairs of each
    split are sampled (with `seed`) for the gallery, `per_type` of each figure type for the
    gallery of types, and `clusters` duplicate clusters shown.
    """
    output = Output(str(output_uri))
    card_dir = _card_dir(output, dest)
    stats = load_stats(output)
    pairs = read_pair_overview(output)
    charts = all_charts(pairs, read_figure_statuses(output), stats.get("options", {}))
    gallery, gallery_jpegs = read_gallery(output, pairs, per_split, seed)
    by_type, type_jpegs = read_type_gallery(output, pairs, per_type, seed)
    cluster_summary, cluster_jpegs = read_clusters(output, clusters)
    staging = staging_present(output)

    with _fresh_folder(card_dir) as work:
        chart_files = [
            (chart, _write(work, f"plots/{chart.name}.png", render_png(chart))) for chart in charts
        ]
        wanted = [row["key"] for rows in gallery.values() for row in rows]
        wanted += [row["key"] for rows in by_type.values() for row in rows]
        wanted += _cluster_keys(cluster_summary)
        jpegs = {**cluster_jpegs, **gallery_jpegs, **type_jpegs}
        images, missing = _thumbnails(work, wanted, jpegs)
        removed = {r["key"] for c in cluster_summary.shown for r in c.removed}
        for key in wanted:
            if key not in images and key not in missing:
                missing[key] = _why_no_image(key in removed, staging)
        page = Page(
            source=output.uri,
            stats=stats,
            charts=chart_files,
            gallery=gallery,
            type_gallery=by_type,
            clusters=cluster_summary,
            images=images,
            missing=missing,
            staging=staging,
        )
        (work / INDEX).write_text(render(page), encoding="utf-8")
    return card_dir / INDEX


def _card_dir(output: Output, dest: str | os.PathLike | None) -> Path:
    if dest is not None:
        return Path(dest).resolve()
    if "://" in output.uri and not output.uri.startswith("file://"):
        # Decided from the URI alone: an object store is not contacted to refuse this.
        raise ReportError(f"{output.uri} is not a local path: give a local folder for the card")
    return Path(output.path(CARD))


@contextmanager
def _fresh_folder(target: Path) -> Iterator[Path]:
    """A new folder beside target that replaces it when the block succeeds. An existing
    target is replaced only when it looks like a card, so a mistyped destination never
    deletes someone's files."""
    if target.exists() and (not target.is_dir() or set(os.listdir(target)) - CARD_ENTRIES):
        raise ReportError(f"{target} exists and is not a data card: not replacing it")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    work.chmod(0o755)  # mkdtemp makes it 0700: a web server copying the card would get 403
    try:
        yield work
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
            target.rename(old / target.name)
            work.rename(target)
            shutil.rmtree(old)
        else:
            work.rename(target)
    finally:
        if work.exists():
            shutil.rmtree(work)


def _write(folder: Path, relpath: str, data: bytes) -> str:
    path = folder / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relpath


def _thumbnails(
    work: Path, keys: list[str], jpegs: Mapping[str, bytes]
) -> tuple[dict[str, str], dict[str, str]]:
    """({key: thumbnail path}, {key: why none}) of the keys whose JPEG was found."""
    images: dict[str, str] = {}
    missing: dict[str, str] = {}
    for key in dict.fromkeys(keys):  # a kept figure may be in the gallery and a cluster
        if key not in jpegs:
            continue
        try:
            images[key] = _write(work, f"img/{_file_name(key)}.jpg", thumbnail(jpegs[key]))
        except ThumbnailError as exc:
            missing[key] = f"image not shown: {exc}"
    return images, missing


def _file_name(key: str) -> str:
    """The key itself when it is a plain name (keys are, by contract), else its hash: a key
    read from a table never becomes a path of its own choosing."""
    return key if _SAFE_NAME.match(key) else hashlib.sha1(key.encode()).hexdigest()


def _cluster_keys(summary: ClusterSummary) -> list[str]:
    return [k for c in summary.shown for k in [c.kept_key, *(r["key"] for r in c.removed)]]


def _why_no_image(removed: bool, staging: bool) -> str:
    if removed:  # dropped figures are in no shard; only staging holds their image
        return "image not in staging" if staging else "no staging chunks: image not kept"
    return "image not found in its shard"
