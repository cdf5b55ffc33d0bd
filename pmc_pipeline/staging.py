"""Staging: the extract phase's resumable output under OUTPUT/staging/.

Each chunk is a folder `staging/<chunk_id>/` with `images.bin` (the processed JPEGs of the
chunk's candidates, one after another in key order), `articles.parquet` (one row per
article), `figures.parquet` (one row per figure seen; a candidate's row says where its JPEG
is: `chunk`, `jpeg_offset`, and `image_bytes` for the length) and, written last,
`_SUCCESS.json` (the completion marker with the chunk's counts). A chunk without its marker is
garbage from a crashed run and is ignored and removed.

The JPEGs sit beside the rows rather than in them so that assemble moves only rows through
its shuffles: each shard writer reads the JPEGs of its own samples by range, once.

Chunk ids are `g<generation>-<bucket>`: every extract run is one generation; an article
extracted again (--retry-failed, a changed inventory entry) appears in a later generation and
assemble uses its newest record. Which articles a chunk holds depends only on their keys and
on how many articles the run extracts, never on the order they arrive in.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from pmc_pipeline.model import ArticleRef, ArticleStatus
from pmc_pipeline.outputs import Output
from pmc_pipeline.records import arrow_schemas

STAGING = "staging"
MARKER = "_SUCCESS.json"
ARTICLES_FILE = "articles.parquet"
FIGURES_FILE = "figures.parquet"
IMAGES_FILE = "images.bin"
# What the resume logic reads of finished articles (cheap: no figure rows, no image bytes).
DONE_COLUMNS = ["article_key", "status", "etag", "last_updated", "generation"]


def stable_hash(text: str) -> int:
    """A 64-bit hash that is the same on every machine and run (unlike Python's hash())."""
    return int.from_bytes(hashlib.sha1(text.encode("utf-8")).digest()[:8], "big")


def chunk_count(n_articles: int, chunk_size: int) -> int:
    return max(1, math.ceil(n_articles / chunk_size))


def chunk_id(generation: int, key: str, n_chunks: int) -> str:
    return f"g{generation:05d}-{stable_hash(key) % n_chunks:06d}"


def generation_of(chunk: str) -> int:
    return int(chunk.split("-", 1)[0][1:])


@dataclass(frozen=True)
class DoneRecord:
    """What staging already holds for an article key."""

    status: str
    etag: str | None
    last_updated: str | None
    generation: int


def needs_extract(ref: ArticleRef, done: DoneRecord | None, retry_failed: bool) -> bool:
    """Whether a listed article must be extracted in this run (the resume rule)."""
    if done is None:
        return True
    if retry_failed and done.status in ArticleStatus.RETRYABLE:
        return True
    # The listing says the object changed since it was staged (a daily update).
    return (ref.etag, ref.last_updated) != (done.etag, done.last_updated)


def latest_done(rows: Iterable[Mapping]) -> dict[str, DoneRecord]:
    """article_key -> its newest staged record, from rows with DONE_COLUMNS."""
    done: dict[str, DoneRecord] = {}
    for row in rows:
        record = DoneRecord(row["status"], row["etag"], row["last_updated"], row["generation"])
        current = done.get(row["article_key"])
        if current is None or record.generation > current.generation:
            done[row["article_key"]] = record
    return done


# --- the staging folder -------------------------------------------------------------------


def complete_chunks(output: Output) -> list[str]:
    """Ids of the chunks whose completion marker exists, sorted (one recursive listing)."""
    markers = output.glob_files(STAGING, "/" + MARKER)
    return sorted(path.split("/")[-2] for path in markers)


def remove_incomplete_chunks(output: Output) -> list[str]:
    """Delete chunk folders a crashed run left without a marker; returns their ids."""
    complete = set(complete_chunks(output))
    removed = [n for n in output.listdir(STAGING) if n.startswith("g") and n not in complete]
    for name in removed:
        output.delete_dir(f"{STAGING}/{name}")
    return removed


def next_generation(output: Output) -> int:
    chunks = complete_chunks(output)
    return 1 + max((generation_of(c) for c in chunks), default=0)


def chunk_path(chunk: str, filename: str) -> str:
    return f"{STAGING}/{chunk}/{filename}"


def write_chunk(output: Output, chunk: str, results: Iterable) -> dict:
    """Write one chunk's JPEGs and rows (sorted by key, so the files do not depend on arrival
    order), then its marker. Returns the marker's content."""
    generation = generation_of(chunk)
    results = sorted(results, key=lambda r: r.article["article_key"])
    articles = [{**r.article, "generation": generation, "chunk": chunk} for r in results]
    figures = sorted(
        ({**f, "generation": generation, "chunk": chunk} for r in results for f in r.figures),
        key=lambda f: f["key"],
    )
    offset = 0
    with output.open_write(chunk_path(chunk, IMAGES_FILE)) as images:
        for figure in figures:
            jpeg = figure.pop("jpeg", None)
            figure["jpeg_offset"] = None if jpeg is None else offset
            if jpeg is not None:
                images.write(jpeg)
                offset += len(jpeg)
    schemas = arrow_schemas()
    write_parquet(output, chunk_path(chunk, ARTICLES_FILE), articles, schemas["staging_article"])
    write_parquet(output, chunk_path(chunk, FIGURES_FILE), figures, schemas["staging_figure"])
    marker = {
        "chunk": chunk,
        "generation": generation,
        "articles": len(articles),
        "figures": len(figures),
        "article_status": dict(sorted(Counter(a["status"] for a in articles).items())),
        "figure_status": dict(sorted(Counter(f["status"] for f in figures).items())),
        "bytes_read": sum(a["bytes_read"] for a in articles),
    }
    output.write_json(chunk_path(chunk, MARKER), marker)
    return marker


def write_parquet(output: Output, relpath: str, rows: list[dict], schema: pa.Schema) -> None:
    """Rows to one Parquet file with fixed writer settings, so equal rows give equal bytes."""
    table = pa.Table.from_pylist(rows, schema=schema)
    with output.open_write(relpath) as out:
        pq.write_table(table, out, compression="zstd", row_group_size=10_000, write_statistics=True)


def read_jpegs(output: Output, chunk: str, spans: Iterable[tuple[int, int]]) -> list[bytes]:
    """The JPEGs at (offset, length) spans of a chunk's images.bin, in the order given: one
    open and one ranged read per JPEG, so a reader fetches only the bytes it needs."""
    spans = list(spans)
    if not spans:
        return []
    path = output.path(chunk_path(chunk, IMAGES_FILE))
    jpegs = []
    with output.fs.open_input_file(path) as f:
        size = f.size()
        for offset, length in spans:
            if offset < 0 or length < 0 or offset + length > size:
                raise ValueError(f"{path}: span {offset}+{length} outside its {size} bytes")
            jpegs.append(f.read_at(length, offset))
    return jpegs


def read_rows(output: Output, relpath: str, columns: list[str] | None = None) -> list[dict]:
    with output.fs.open_input_file(output.path(relpath)) as f:
        return pq.read_table(f, columns=columns).to_pylist()
