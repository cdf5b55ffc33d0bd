"""Extract's plan: which listed articles this run extracts, and in which staging chunk.

The launcher makes the plan before the extract pipeline starts: it streams the listing,
looks each article up in what staging already holds (the resume rule,
`staging.needs_extract`), and writes the articles to extract, grouped by chunk, to
`OUTPUT/staging/_plan/g<generation>/plan-NNNNN.parquet` (one row group per chunk). The
pipeline then only has to extract chunks: a Create of the planned chunk ids, each worker
reading its chunk's row group. That needs no side input and no global count inside the
pipeline, so it runs the same on DirectRunner, DaskRunner and Dataflow.

Memory stays flat whatever the size of the listing: staging's done records and the
articles to extract go into a SQLite file in a temporary folder (the disk, not the heap),
and are streamed out again sorted by chunk.

Which chunk an article goes to depends only on its key and on how many articles the run
extracts (`staging.chunk_id`), never on the order of the listing.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pmc_pipeline import staging
from pmc_pipeline.model import ArticleRef
from pmc_pipeline.outputs import Output

log = logging.getLogger(__name__)

PLAN_DIR = f"{staging.STAGING}/_plan"
CHUNKS_PER_FILE = 256  # row groups (chunks) per plan file
_BATCH = 2000  # listing entries looked up in staging at once
_READ_THREADS = 16  # staging files read at once (remote stores answer in tens of ms)

REF_SCHEMA = pa.schema(
    [
        ("pmcid", pa.string()),
        ("version", pa.int64()),
        ("layout", pa.string()),
        ("location", pa.string()),
        ("last_updated", pa.string()),
        ("pmid", pa.string()),
        ("citation", pa.string()),
        ("license", pa.string()),
        ("retracted", pa.bool_()),
        ("etag", pa.string()),
    ]
)
assert REF_SCHEMA.names == [f.name for f in dataclasses.fields(ArticleRef)]


@dataclass(frozen=True)
class PlannedChunk:
    """One chunk of the plan: where its articles are (file relative to OUTPUT, row group)."""

    chunk: str
    path: str
    row_group: int
    articles: int


@dataclass(frozen=True)
class Plan:
    generation: int
    listed: int  # entries the listing gave
    skipped: int  # already staged (the resume rule)
    repeated: int  # keys the listing named more than once (extracted once)
    chunks: tuple[PlannedChunk, ...]

    @property
    def todo(self) -> int:
        return sum(c.articles for c in self.chunks)


def plan_dir(generation: int) -> str:
    return f"{PLAN_DIR}/g{generation:05d}"


def make_plan(
    output: Output,
    refs: Iterable[ArticleRef],
    *,
    done_chunks: Iterable[str],
    generation: int,
    chunk_size: int,
    retry_failed: bool = False,
    redo_generations: frozenset[int] = frozenset(),
) -> Plan:
    """Decide and write this run's plan (see the module docstring). `redo_generations`:
    staged records of these generations count as not staged (--force-reextract)."""
    with tempfile.TemporaryDirectory(prefix="pmc-plan-") as tmp:
        db = sqlite3.connect(Path(tmp) / "plan.sqlite")
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            _load_done(db, output, list(done_chunks))
            listed, skipped, repeated = _select_todo(db, refs, retry_failed, redo_generations)
            chunks = _write_plan(db, output, generation, chunk_size)
        finally:
            db.close()
    plan = Plan(generation, listed, skipped, repeated, tuple(chunks))
    log.info(
        "plan: %d listed, %d already staged, %d to extract in %d chunks%s",
        listed,
        skipped,
        plan.todo,
        len(chunks),
        f" ({repeated} listed twice)" if repeated else "",
    )
    return plan


# The done table's columns, in staging.DONE_COLUMNS order (article_key stored as key).
_DONE_SQL = ", ".join("key" if c == "article_key" else c for c in staging.DONE_COLUMNS)


def _load_done(db: sqlite3.Connection, output: Output, chunks: list[str]) -> None:
    """The newest staged record of every article key, from the chunks' article rows."""
    db.execute(
        "CREATE TABLE done (key TEXT PRIMARY KEY, status TEXT, reason TEXT, etag TEXT,"
        " last_updated TEXT, generation INTEGER)"
    )

    def read(chunk: str) -> list[tuple]:
        rows = staging.read_chunk_rows(output, chunk, staging.ARTICLES_FILE, staging.DONE_COLUMNS)
        return [tuple(row[c] for c in staging.DONE_COLUMNS) for row in rows]

    with ThreadPoolExecutor(_READ_THREADS) as pool:
        for rows in pool.map(read, chunks):
            db.executemany(
                f"INSERT INTO done ({_DONE_SQL}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET"
                " status=excluded.status, reason=excluded.reason, etag=excluded.etag,"
                " last_updated=excluded.last_updated, generation=excluded.generation"
                " WHERE excluded.generation > done.generation",
                rows,
            )


def _select_todo(
    db: sqlite3.Connection,
    refs: Iterable[ArticleRef],
    retry_failed: bool,
    redo_generations: frozenset[int],
) -> tuple[int, int, int]:
    db.execute("CREATE TABLE todo (key TEXT PRIMARY KEY, ref BLOB)")
    listed = skipped = repeated = 0
    for batch in _batched(refs, _BATCH):
        listed += len(batch)
        keys = [ref.key for ref in batch]
        marks = ",".join("?" * len(keys))
        done = {
            row[0]: staging.DoneRecord(*row[1:])
            for row in db.execute(
                "SELECT key, status, etag, last_updated, generation, reason FROM done"
                f" WHERE key IN ({marks})",
                keys,
            )
        }
        for ref in batch:
            record = done.get(ref.key)
            if record is not None and record.generation in redo_generations:
                record = None
            if not staging.needs_extract(ref, record, retry_failed):
                skipped += 1
                continue
            inserted = db.execute(
                "INSERT INTO todo VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                (ref.key, _encode(ref)),
            ).rowcount
            repeated += 1 - inserted
    return listed, skipped, repeated


def _write_plan(
    db: sqlite3.Connection, output: Output, generation: int, chunk_size: int
) -> list[PlannedChunk]:
    (n_todo,) = db.execute("SELECT COUNT(*) FROM todo").fetchone()
    if not n_todo:
        return []
    n_chunks = staging.chunk_count(n_todo, chunk_size)
    db.create_function(
        "chunk_of", 1, lambda key: staging.chunk_id(generation, key, n_chunks), deterministic=True
    )
    rows = db.execute("SELECT chunk_of(key) AS c, ref FROM todo ORDER BY c, key")
    by_chunk = itertools.groupby(rows, key=lambda row: row[0])
    planned: list[PlannedChunk] = []
    for index, group in enumerate(_batched(by_chunk, CHUNKS_PER_FILE, materialize=True)):
        path = f"{plan_dir(generation)}/plan-{index:05d}.parquet"
        with output.open_write(path) as out, pq.ParquetWriter(out, REF_SCHEMA) as writer:
            for row_group, (chunk, chunk_rows) in enumerate(group):
                refs = [_decode(blob) for _, blob in chunk_rows]
                writer.write_table(pa.Table.from_pylist(refs, schema=REF_SCHEMA))
                planned.append(PlannedChunk(chunk, path, row_group, len(refs)))
    return planned


def read_planned_refs(output: Output, chunk: PlannedChunk) -> list[ArticleRef]:
    """The articles of one planned chunk (what an extract worker reads)."""
    with output.fs.open_input_file(output.path(chunk.path)) as f:
        rows = pq.ParquetFile(f).read_row_group(chunk.row_group).to_pylist()
    return [ArticleRef(**row) for row in rows]


def remove_plan(output: Output) -> None:
    """Remove the plans (one run plans at a time, under the output lock)."""
    output.delete_dir(PLAN_DIR)


def _encode(ref: ArticleRef) -> bytes:
    return json.dumps(dataclasses.astuple(ref)).encode()


def _decode(blob: bytes) -> dict:
    return dict(zip(REF_SCHEMA.names, json.loads(blob), strict=True))


def _batched(items: Iterable, n: int, materialize: bool = False) -> Iterator[list]:
    """Lists of up to n items; with materialize, each (key, group) item's group is made a
    list before the next is drawn (itertools.groupby's groups are views)."""
    iterator = iter(items)
    while True:
        if materialize:
            batch = [(k, list(g)) for k, g in itertools.islice(iterator, n)]
        else:
            batch = list(itertools.islice(iterator, n))
        if not batch:
            return
        yield batch
