"""Publishing: WebDataset shards and Parquet files of a build.

Layout (docs/design.md, "Contracts"): `webdataset/<split>/<split>-NNNNNN.tar` with members `<key>.jpg`,
`<key>.txt`, `<key>.json`; `parquet/pairs/<split>/<split>-NNNNNN.parquet` (the same samples,
one row each, beside their shard); `parquet/figures/figures-NNNNN.parquet` and
`parquet/articles/articles-NNNNN.parquet`.

A sample's shard is a hash of its key modulo the split's shard count, so membership depends
only on the key and the number of samples, never on worker count or arrival order; inside a
shard, samples are sorted by key, and tar headers are normalised (mtime, owner, mode), so the
same samples give byte-identical shards.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from pmc_pipeline.outputs import Output
from pmc_pipeline.records import PAIR_FIELDS, arrow_schemas
from pmc_pipeline.staging import stable_hash, write_parquet

SHARD_MTIME = 0  # normalised tar header fields: the same samples give the same bytes
SHARD_MODE = 0o444
SHARD_OWNER = ""
# Member extensions of a sample, in the order webdataset's own TarWriter writes them.
MEMBERS = ("jpg", "json", "txt")


def shard_count(n_samples: int, shard_size: int) -> int:
    return max(1, math.ceil(n_samples / shard_size))


def shard_index(key: str, n_shards: int) -> int:
    return stable_hash("shard:" + key) % n_shards


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:06d}"


def shard_path(split: str, index: int) -> str:
    return f"webdataset/{split}/{shard_name(split, index)}.tar"


def pairs_path(split: str, index: int) -> str:
    return f"parquet/pairs/{split}/{shard_name(split, index)}.parquet"


def pairs_path_of(shard: str) -> str:
    """The Parquet pair rows beside a shard: webdataset/<split>/<name>.tar ->
    parquet/pairs/<split>/<name>.parquet."""
    _, split, name = shard.split("/")
    return f"parquet/pairs/{split}/{name.removesuffix('.tar')}.parquet"


def sizes_path(split: str) -> str:
    """webdataset/<split>/sizes.json: shard file name -> samples, the file open_clip_train
    reads to know a split's size (so --train-num-samples need not be typed)."""
    return f"webdataset/{split}/sizes.json"


def split_sizes(shard_summaries: Iterable[dict]) -> dict[str, dict[str, int]]:
    """{split: {shard file name: samples}} from the shard summaries of write_shard."""
    sizes: dict[str, dict[str, int]] = {}
    for s in sorted(shard_summaries, key=lambda s: s["shard"]):
        sizes.setdefault(s["split"], {})[s["shard"].rsplit("/", 1)[-1]] = s["samples"]
    return sizes


def sidecar_json(pair: dict) -> bytes:
    return json.dumps(pair, ensure_ascii=False, sort_keys=True).encode("utf-8")


def write_shard(
    output: Output, split: str, index: int, samples: Iterable[tuple[dict, bytes]]
) -> dict:
    """Write one shard and its Parquet pair rows; `samples` are (pair record, JPEG bytes).
    Returns the shard's summary (counted from what was written) for stats.json."""
    samples = sorted(samples, key=lambda s: s[0]["key"])
    n_bytes = 0
    with output.open_write(shard_path(split, index)) as stream:
        # Plain tarfile rather than webdataset.TarWriter: writing needs nothing more, and
        # importing webdataset imports torch (~600 MB per build worker) when it is installed.
        with tarfile.open(fileobj=stream, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
            for pair, jpeg in samples:
                content = {
                    "jpg": jpeg,
                    "json": sidecar_json(pair),
                    "txt": pair["caption"].encode("utf-8"),
                }
                for ext in MEMBERS:
                    _add_member(tar, f"{pair['key']}.{ext}", content[ext])
                    n_bytes += len(content[ext])
        tar_bytes = stream.tell()
    rows = [{name: pair.get(name) for name in PAIR_FIELDS} for pair, _ in samples]
    write_parquet(output, pairs_path(split, index), rows, arrow_schemas()["pair"])
    return {
        "split": split,
        "shard": shard_path(split, index),
        "samples": len(samples),
        "pair_rows": len(rows),
        "bytes": n_bytes,
        "tar_bytes": tar_bytes,
    }


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), SHARD_MTIME, SHARD_MODE
    info.uname = info.gname = SHARD_OWNER
    tar.addfile(info, io.BytesIO(data))


def table_file(kind: str, index: int) -> str:
    """parquet/figures/figures-00003.parquet, parquet/articles/articles-00000.parquet."""
    return f"parquet/{kind}/{kind}-{index:05d}.parquet"


def write_table_part(
    output: Output, kind: str, index: int, rows: list[dict] | pa.Table, schema_name: str
) -> dict:
    """One Parquet part of the figures or articles table, rows (dicts, or Arrow tables of
    the schema in any batches) sorted by their key; returns what was written (kind, part,
    path, rows)."""
    sort_key = "key" if kind == "figures" else "article_key"
    schema = arrow_schemas()[schema_name]
    if not isinstance(rows, pa.Table):
        rows = pa.Table.from_pylist(rows, schema=schema)
    # Arrow sorts strings by their UTF-8 bytes: the order of Python's sorted(). The rows are
    # written in that order a row group at a time, never copied whole.
    order = pc.sort_indices(rows, sort_keys=[(sort_key, "ascending")])
    path = table_file(kind, index)
    write_parquet(output, path, rows, schema, order)
    return {"kind": kind, "part": index, "path": path, "rows": rows.num_rows}
