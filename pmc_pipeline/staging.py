"""Staging: the extract phase's resumable output under OUTPUT/staging/.

Each chunk is a folder `staging/<chunk_id>/` with `images.bin` (the processed JPEGs of the
chunk's candidates, one after another in key order), `articles.parquet` (one row per
article), `figures.parquet` (one row per figure seen; a candidate's row says where its JPEG
is: `chunk`, `jpeg_offset`, `image_bytes` for the length, and `jpeg_crc32`) and, written
last, `_SUCCESS.json` (the completion marker with the chunk's counts and the size and sha256
of each of its files). A chunk without its marker is garbage from a crashed run and is
ignored and removed.

Nothing is read from staging unchecked: a Parquet file must match the sha256 its marker
records, and each JPEG read by range must match its CRC-32, or the read raises StagingError
naming the chunk (a damaged chunk is never published, nor silently dropped).

The JPEGs sit beside the rows rather than in them so that assemble moves only rows through
its shuffles: each shard writer reads the JPEGs of its own samples by range, once.

Chunk ids are `g<generation>-<bucket>`: every extract run is one generation; an article
extracted again (--retry-failed, a changed inventory entry) appears in a later generation and
assemble uses its newest record. Which articles a chunk holds depends only on their keys and
on how many articles the run extracts, never on the order they arrive in.
"""

from __future__ import annotations

import hashlib
import io
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pmc_pipeline.model import ArticleRef, ArticleStatus
from pmc_pipeline.outputs import Output
from pmc_pipeline.records import arrow_schemas

STAGING = "staging"
# The layout of a chunk's files and rows; bumped when it changes (ledger.py refuses staging
# of another format). 2: checksums in the marker, jpeg_crc32 in the figure rows. 3: the
# reason split into a code (`reason`) and its text (`reason_detail`).
FORMAT = 3
MARKER = "_SUCCESS.json"
ARTICLES_FILE = "articles.parquet"
FIGURES_FILE = "figures.parquet"
IMAGES_FILE = "images.bin"
# What the resume logic reads of finished articles (cheap: no figure rows, no image bytes).
DONE_COLUMNS = ["article_key", "status", "etag", "last_updated", "generation", "reason"]
# The reason of an article whose extract hit a bug: redone by --retry-failed, like a fetch
# that failed, since a fixed version may succeed.
INTERNAL_ERROR = "internal_error"


class StagingError(Exception):
    """Staging that cannot be used as it is (a damaged or missing chunk, a run that did not
    finish, options that differ); the message names it and says what to do."""


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
    reason: str | None = None


def is_retryable(status: str, reason: str | None) -> bool:
    """Whether --retry-failed redoes an article with this status and reason."""
    return status in ArticleStatus.RETRYABLE or (reason or "").startswith(INTERNAL_ERROR)


def needs_extract(ref: ArticleRef, done: DoneRecord | None, retry_failed: bool) -> bool:
    """Whether a listed article must be extracted in this run (the resume rule)."""
    if done is None:
        return True
    if retry_failed and is_retryable(done.status, done.reason):
        return True
    # The listing says the object changed since it was staged (a daily update).
    return (ref.etag, ref.last_updated) != (done.etag, done.last_updated)


def latest_done(rows: Iterable[Mapping]) -> dict[str, DoneRecord]:
    """article_key -> its newest staged record, from rows with DONE_COLUMNS."""
    done: dict[str, DoneRecord] = {}
    for row in rows:
        record = DoneRecord(
            row["status"], row["etag"], row["last_updated"], row["generation"], row.get("reason")
        )
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
    images = hashlib.sha256()
    offset = 0
    with output.open_write(chunk_path(chunk, IMAGES_FILE)) as out:
        for figure in figures:
            jpeg = figure.pop("jpeg", None)
            figure["jpeg_offset"] = None if jpeg is None else offset
            figure["jpeg_crc32"] = None if jpeg is None else zlib.crc32(jpeg)
            if jpeg is not None:
                out.write(jpeg)
                images.update(jpeg)
                offset += len(jpeg)
    schemas = arrow_schemas()
    files = {IMAGES_FILE: {"bytes": offset, "sha256": images.hexdigest()}}
    for name, rows, schema in (
        (ARTICLES_FILE, articles, schemas["staging_article"]),
        (FIGURES_FILE, figures, schemas["staging_figure"]),
    ):
        data = parquet_bytes(rows, schema)
        output.write_bytes(chunk_path(chunk, name), data)
        files[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    marker = {
        "chunk": chunk,
        "generation": generation,
        "articles": len(articles),
        "figures": len(figures),
        "article_status": dict(sorted(Counter(a["status"] for a in articles).items())),
        "figure_status": dict(sorted(Counter(f["status"] for f in figures).items())),
        "bytes_read": sum(a["bytes_read"] for a in articles),
        "files": files,
    }
    output.write_json(chunk_path(chunk, MARKER), marker)
    return marker


ROW_GROUP_SIZE = 10_000  # rows per Parquet row group, in every file the build writes


def parquet_bytes(rows: list[dict] | pa.Table, schema: pa.Schema) -> bytes:
    """Rows (dicts, or an Arrow table of the schema) as one Parquet file, with fixed writer
    settings: equal rows give equal bytes, however they were batched."""
    buffer = io.BytesIO()
    _write_row_groups(buffer, _as_table(rows, schema), schema)
    return buffer.getvalue()


def write_parquet(
    output: Output,
    relpath: str,
    rows: list[dict] | pa.Table,
    schema: pa.Schema,
    order: pa.Array | None = None,
) -> None:
    """Rows to one Parquet file with fixed writer settings, so equal rows give equal bytes;
    `order`: the row indices in the order to write them (e.g. pyarrow.compute.sort_indices).
    Streamed to the output a row group at a time: besides the rows given, memory holds one
    row group's copy and its compressed pages, not a sorted copy of the whole file."""
    table = _as_table(rows, schema)
    with output.open_write(relpath) as out:
        _write_row_groups(out, table, schema, order)


def _as_table(rows: list[dict] | pa.Table, schema: pa.Schema) -> pa.Table:
    if isinstance(rows, pa.Table):
        return rows.cast(schema)
    return pa.Table.from_pylist(rows, schema=schema)


def _write_row_groups(
    sink: Any, table: pa.Table, schema: pa.Schema, order: pa.Array | None = None
) -> None:
    """What pq.write_table(sorted table, row_group_size=ROW_GROUP_SIZE) writes, one row
    group at a time (each row group's columns combined into one chunk first, as the bytes of
    a page depend on the chunks it is written from)."""
    with pq.ParquetWriter(sink, schema, compression="zstd", write_statistics=True) as writer:
        if table.num_rows == 0:
            writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP_SIZE)
        for start in range(0, table.num_rows, ROW_GROUP_SIZE):
            if order is None:
                piece = table.slice(start, ROW_GROUP_SIZE)
            else:
                piece = _take(table, order[start : start + ROW_GROUP_SIZE])
            writer.write_table(piece.combine_chunks(), row_group_size=ROW_GROUP_SIZE)


def _take(table: pa.Table, indices: pa.Array) -> pa.Table:
    """table.take(indices), taking from each record batch of the table what it holds of the
    indices: Arrow's take over a table of many chunks concatenates each column whole first,
    a copy of the table per call."""
    batches = table.to_batches()
    if len(batches) <= 1:
        return table.take(indices)
    wanted = np.asarray(indices, dtype=np.int64)
    starts = np.cumsum([0] + [len(b) for b in batches[:-1]])
    which = np.searchsorted(starts, wanted, side="right") - 1
    grouped = np.argsort(which, kind="stable")  # positions in `indices`, batch by batch
    pieces = []
    for batch in np.unique(which):
        local = wanted[which == batch] - starts[batch]
        pieces.append(batches[batch].take(pa.array(local)))
    taken = pa.Table.from_batches(pieces, schema=table.schema).combine_chunks()
    # taken holds the rows batch by batch; put them back in the order of `indices`.
    return taken.take(pa.array(np.argsort(grouped, kind="stable")))


def read_marker(output: Output, chunk: str) -> dict:
    try:
        marker = output.read_json(chunk_path(chunk, MARKER))
    except FileNotFoundError:
        raise StagingError(f"staging chunk {chunk} has no marker ({MARKER}); {_REDO}") from None
    except (OSError, ValueError) as exc:
        raise StagingError(
            f"staging chunk {chunk}: its marker is unreadable ({exc}); {_REDO}"
        ) from None
    if not isinstance(marker, dict) or not isinstance(marker.get("files"), dict):
        raise StagingError(
            f"staging chunk {chunk}: its marker lists no file checksums; {_REDO}"
        ) from None
    return marker


_REDO = "remove that chunk folder and run extract again: it redoes the chunk's articles"


def read_chunk_rows(
    output: Output, chunk: str, filename: str, columns: list[str] | None = None
) -> list[dict]:
    """The rows of one Parquet file of a chunk, after checking it against the sha256 its
    marker records. Raises StagingError naming the chunk when it does not match or cannot
    be read."""
    expected = read_marker(output, chunk)["files"].get(filename)
    relpath = chunk_path(chunk, filename)
    try:
        data = output.read_bytes(relpath)
    except OSError as exc:
        raise StagingError(
            f"staging chunk {chunk}: cannot read {filename} ({exc}); {_REDO}"
        ) from None
    if expected is None or hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise StagingError(
            f"staging chunk {chunk}: {filename} does not match the checksum in its marker "
            f"(damaged or replaced); {_REDO}"
        )
    try:
        return pq.read_table(io.BytesIO(data), columns=columns).to_pylist()
    except (pa.ArrowException, ValueError) as exc:
        raise StagingError(
            f"staging chunk {chunk}: {filename} is not valid Parquet ({exc})"
        ) from None


def read_jpegs(
    output: Output, chunk: str, spans: Iterable[tuple[int, int, int | None]]
) -> list[bytes]:
    """The JPEGs at (offset, length, crc32) spans of a chunk's images.bin, in the order
    given: one open and one ranged read per JPEG, so a reader fetches only the bytes it
    needs. A span outside the file or bytes that do not match their CRC-32 raise
    StagingError naming the chunk."""
    spans = list(spans)
    if not spans:
        return []
    path = output.path(chunk_path(chunk, IMAGES_FILE))
    jpegs = []
    try:
        with output.fs.open_input_file(path) as f:
            size = f.size()
            for offset, length, crc in spans:
                if offset < 0 or length < 0 or offset + length > size:
                    raise StagingError(
                        f"staging chunk {chunk}: JPEG span {offset}+{length} outside the "
                        f"{size} bytes of {IMAGES_FILE}; {_REDO}"
                    )
                jpeg = f.read_at(length, offset)
                if crc is None or zlib.crc32(jpeg) != crc:
                    raise StagingError(
                        f"staging chunk {chunk}: the JPEG at {offset}+{length} of {IMAGES_FILE} "
                        f"does not match its CRC-32 (damaged); {_REDO}"
                    )
                jpegs.append(jpeg)
    except OSError as exc:
        raise StagingError(
            f"staging chunk {chunk}: cannot read {IMAGES_FILE} ({exc}); {_REDO}"
        ) from None
    return jpegs
