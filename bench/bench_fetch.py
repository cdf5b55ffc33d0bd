"""Fetch speed and cost: articles/s and MB/s read from a local S3 server (moto) and a local
HTTP server at 1, 8 and 32 concurrent workers, for both PMC layouts; and the bytes fetched
per kept figure in the cloud layout against the legacy layout on the same mirror.

    python -m bench fetch [--articles N] [--seed S]

The synthetic mirror (pmc_pipeline.mirror) is written once per layout with the same seed,
so both layouts hold the same articles, figures and image bytes. Each server runs in its
own process (tests/helpers/servers.py), so server and client do not share one interpreter. A
worker does to one article what the build's extract does: open it (cloud: its metadata
JSON), stop if a selection rule excludes it, else read and parse its XML and fetch the
full image of every figure. Kept figures are those the mirror's truth file expects the
build to keep, so "bytes per kept figure" is what a build pays per published pair.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.common import PROJECT_ROOT, machine, table, write_section
from pmc_pipeline.jats import parse_article
from pmc_pipeline.model import FetchError, Layout, ParseError, UnsafeInput
from pmc_pipeline.sources import open_source
from pmc_pipeline.sources.selection import exclusion_reason

SERVERS = PROJECT_ROOT / "tests" / "helpers" / "servers.py"
WORKERS = (1, 8, 32)


@dataclass
class Tally:
    articles: int = 0
    failed: int = 0
    requests: int = 0  # GETs of article files (no retries happen without faults)
    images: int = 0  # figure images fetched
    bytes_read: int = 0
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.articles += other.articles
        self.failed += other.failed
        self.requests += other.requests
        self.images += other.images
        self.bytes_read += other.bytes_read


def fetch_article(source, ref) -> Tally:
    """One article, read the way extract reads it; failures are counted, not raised."""
    tally = Tally(articles=1)
    files = None
    try:
        files = source.open_article(ref)
        # Cloud: one GET for the metadata now, one for the XML, one per image; legacy: one
        # GET streams the package.
        tally.requests = 1
        if exclusion_reason(ref, files.metadata, licenses=None) is None:
            article = parse_article(files.xml())
            tally.requests += source.layout == Layout.CLOUD
            for figure in article.figures:
                if figure.image_href is not None:
                    with contextlib.suppress(FetchError, UnsafeInput):
                        files.image(figure.image_href)
                        tally.images += 1
                        tally.requests += source.layout == Layout.CLOUD
    except (FetchError, UnsafeInput, ParseError):
        tally.failed += 1
    tally.bytes_read = files.bytes_read if files is not None else 0
    return tally


def run(source, refs, workers: int) -> Tally:
    total = Tally()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for tally in pool.map(lambda ref: fetch_article(source, ref), refs):
            total.add(tally)
    total.seconds = time.perf_counter() - start
    return total


@contextlib.contextmanager
def server(kind: str, root: Path):
    """tests/helpers/servers.py serving `root` in a child process; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, str(SERVERS), kind, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"{kind} server did not start (got {url!r})")
        yield url
    finally:
        proc.stdin.close()  # the server exits when its stdin closes
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def open_for(kind: str, layout: str, url: str):
    """A fresh source (new connections) for one run."""
    if kind == "s3":
        return open_source(layout, "s3://pmc-oa-opendata", endpoint_url=url, pool_size=max(WORKERS))
    return open_source(layout, url, pool_size=max(WORKERS))


def kept_figures(mirror: Path, keys: set[str]) -> int:
    """Figures of the listed article versions that the mirror's truth expects kept."""
    truth = json.loads((mirror / ".mirror-truth.json").read_text())
    return sum(
        1
        for article in truth["articles"]
        if article["key"] in keys
        for figure in article["figures"]
        if figure.get("expected_status") == "kept"
    )


def main(argv: list[str]) -> None:
    from pmc_pipeline.mirror import write_mirror

    parser = argparse.ArgumentParser(prog="bench fetch")
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    speed_rows, cost_rows, per_kept = [], [], {}
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        mirrors = {layout: Path(tmp) / layout for layout in (Layout.CLOUD, Layout.LEGACY)}
        for layout, root in mirrors.items():
            write_mirror(root, layout, args.articles, args.seed)
        for kind in ("s3", "http"):
            for layout, root in mirrors.items():
                with server(kind, root) as url:
                    refs = list(open_for(kind, layout, url).list_articles())
                    run(open_for(kind, layout, url), refs[:8], 8)  # warm up the server
                    for workers in WORKERS:
                        tally = run(open_for(kind, layout, url), refs, workers)
                        row = [
                            kind.upper(),
                            layout,
                            workers,
                            f"{tally.articles / tally.seconds:.1f}",
                            f"{tally.bytes_read / 1e6 / tally.seconds:.1f}",
                            f"{tally.requests / tally.seconds:.0f}",
                            tally.failed,
                        ]
                        speed_rows.append(row)
                        print(" | ".join(str(c) for c in row), flush=True)
                    if kind == "http":  # bytes do not depend on the server or workers
                        kept = kept_figures(root, {ref.key for ref in refs})
                        per_kept[layout] = tally.bytes_read / max(1, kept)
                        cost_rows.append(
                            [
                                layout,
                                tally.articles,
                                tally.requests,
                                tally.images,
                                kept,
                                f"{tally.bytes_read / 1e6:.1f}",
                                f"{per_kept[layout] / 1e3:.1f}",
                            ]
                        )

    ratio = per_kept[Layout.LEGACY] / per_kept[Layout.CLOUD]
    markdown = "\n\n".join(
        [
            "## Fetch (sources)",
            f"`python -m bench fetch --articles {args.articles} --seed {args.seed}` on "
            f"{machine()}. One synthetic mirror per layout (`pmc_pipeline.mirror`, "
            f"{args.articles} articles, seed {args.seed}, default PDF and supplement sizes), "
            "served from a separate process on 127.0.0.1 by moto's S3 server or the threaded "
            "HTTP server of tests/helpers/servers.py; no faults. A worker does what extract does: "
            "open the article (cloud: its metadata JSON), skip it if excluded (retracted), "
            "else read and parse its XML and fetch the full image of each figure. MB/s "
            "counts bodies fetched (legacy: whole packages).",
            table(
                ["server", "layout", "workers", "articles/s", "MB/s", "GETs/s", "failed"],
                speed_rows,
            ),
            "Both servers are single Python processes on the same two cores as the client "
            "(shared with other work, so rates move by tens of percent between runs): they, "
            "moto above all, bound these rates, not the client, so more workers help only "
            "until the server is busy. Compare rows of one server: the cloud layout pays per "
            "request (metadata, XML, then one GET per image), the legacy layout per byte "
            "(one GET streams the whole package).",
            "Bytes fetched per kept figure on the same mirror (kept = the figures the "
            "mirror's truth file expects the build to publish; the legacy mirror holds only "
            "open-access articles, hence fewer articles):",
            table(
                [
                    "layout",
                    "articles",
                    "GETs",
                    "images fetched",
                    "kept figures",
                    "MB fetched",
                    "kB per kept figure",
                ],
                cost_rows,
            ),
            f"The legacy layout fetches **{ratio:.1f}x** the bytes per kept figure of the "
            "cloud layout: each package carries the PDF, every .gif thumbnail and the "
            "supplements, which the cloud layout never downloads.",
        ]
    )
    print(markdown)
    write_section("fetch", markdown)
