"""Fetch speed and cost: articles/s and MB/s read from a local S3 server (moto) and a local
HTTP server at 1, 8 and 32 concurrent workers, for both PMC layouts; and the bytes fetched
per figure image in the cloud layout against the legacy layout on the same mirror.

    python -m bench fetch [--articles N] [--seed S]

The synthetic mirror (pmc_pipeline.mirror) is written once per layout with the same seed,
so both layouts hold the same articles, figures and image bytes. Each server runs in its
own process (tests/servers.py), so server and client do not share one interpreter. A
worker does what the build's extract does to one article: open it (cloud: the metadata
JSON), read its XML, parse it, and fetch the full image of every figure.
"""

from __future__ import annotations

import argparse
import contextlib
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

SERVERS = PROJECT_ROOT / "tests" / "servers.py"
WORKERS = (1, 8, 32)


@dataclass
class Tally:
    articles: int = 0
    failed: int = 0
    figures: int = 0  # figures whose full image was fetched
    bytes_read: int = 0
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.articles += other.articles
        self.failed += other.failed
        self.figures += other.figures
        self.bytes_read += other.bytes_read


def fetch_article(source, ref) -> Tally:
    """One article as extract reads it; failures are counted, not raised."""
    tally = Tally(articles=1)
    files = None
    try:
        files = source.open_article(ref)
        for figure in parse_article(files.xml()).figures:
            if figure.image_href is None:
                continue
            try:
                files.image(figure.image_href)
                tally.figures += 1
            except (FetchError, UnsafeInput):
                pass  # a figure without its image: not a fetched figure
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
    """tests/servers.py serving `root` in a child process; yields its URL."""
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


def main(argv: list[str]) -> None:
    from pmc_pipeline.mirror import write_mirror

    parser = argparse.ArgumentParser(prog="bench fetch")
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    speed_rows, cost = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-fetch-") as tmp:
        mirrors = {}
        for layout in (Layout.CLOUD, Layout.LEGACY):
            mirrors[layout] = Path(tmp) / layout
            write_mirror(mirrors[layout], layout, args.articles, args.seed)
        for kind in ("s3", "http"):
            for layout in (Layout.CLOUD, Layout.LEGACY):
                with server(kind, mirrors[layout]) as url:
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
                            tally.failed,
                        ]
                        speed_rows.append(row)
                        print(" | ".join(str(c) for c in row), flush=True)
                        if kind == "http" and workers == 8:
                            cost[layout] = tally

    cost_rows = []
    for layout, tally in cost.items():
        per_figure = tally.bytes_read / max(1, tally.figures)
        cost_rows.append(
            [
                layout,
                tally.articles,
                tally.figures,
                f"{tally.bytes_read / 1e6:.1f}",
                f"{per_figure / 1e3:.1f}",
            ]
        )
    ratio = (cost[Layout.LEGACY].bytes_read / max(1, cost[Layout.LEGACY].figures)) / max(
        1.0, cost[Layout.CLOUD].bytes_read / max(1, cost[Layout.CLOUD].figures)
    )
    markdown = "\n\n".join(
        [
            "## Fetch (sources)",
            f"`python -m bench fetch --articles {args.articles} --seed {args.seed}` on "
            f"{machine()}. A synthetic mirror (`pmc_pipeline.mirror`, seed {args.seed}) in "
            "each layout, served from a separate process on 127.0.0.1 by moto's S3 server "
            "or a threaded HTTP server (tests/servers.py), no faults. A worker opens an "
            "article, reads and parses its XML and fetches the full image of each figure, "
            "as extract does. MB/s counts bodies fetched (metadata, XML, images; whole "
            "packages in the legacy layout).",
            table(["server", "layout", "workers", "articles/s", "MB/s", "failed"], speed_rows),
            "Bytes fetched per figure image on the same mirror (HTTP, 8 workers): the cloud "
            "layout fetches the metadata, the XML and each referenced full image; the legacy "
            "layout streams the whole package (PDF, thumbnails and supplements included). "
            f"Legacy / cloud = **{ratio:.2f}x**.",
            table(
                ["layout", "articles", "figures fetched", "MB fetched", "kB per figure"], cost_rows
            ),
        ]
    )
    print(markdown)
    write_section("fetch", markdown)
