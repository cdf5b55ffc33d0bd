"""Where the card finds the JPEG of a figure.

Kept figures are in the published WebDataset shards (`<key>.jpg` members). Figures dropped
at assemble time (duplicates, near duplicates) are in no shard; their processed JPEG is
still in the extract phase's staging chunks (staging/<chunk>/images.bin, at the offset its row
in figures.parquet gives), newest generation first, as long as the staging folder has not
been deleted.

Nothing here writes to the file system or trusts sizes: tar members are read into memory
only when they are wanted and under MAX_JPEG_BYTES, and never extracted by name.
"""

from __future__ import annotations

import logging
import re
import tarfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import IO, cast

import pyarrow.compute as pc
import pyarrow.parquet as pq

from pmc_pipeline.outputs import Output
from pmc_pipeline.staging import (
    FIGURES_FILE,
    StagingError,
    chunk_path,
    complete_chunks,
    read_jpegs,
)

log = logging.getLogger(__name__)

# Far above a published JPEG (1024 px at quality 95 is well under 1 MiB), far below memory.
MAX_JPEG_BYTES = 16 * 1024 * 1024
# Split and shard names come from Parquet rows and become a path: nothing but a name.
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def shard_file(split: str | None, shard: str | None) -> str | None:
    """The shard's path under OUTPUT (the layout in docs/design.md), or None for a name that is not one."""
    if _NAME.match(split or "") and _NAME.match(shard or ""):
        return f"webdataset/{split}/{shard}.tar"
    return None


def published_jpegs(output: Output, pairs: Iterable[Mapping]) -> dict[str, bytes]:
    """{key: JPEG bytes} of kept pairs (rows with key, split and shard), read from their
    shards, one pass over each shard."""
    by_shard: dict[str, list[str]] = defaultdict(list)
    for row in pairs:
        path = shard_file(row["split"], row["shard"])
        if path is not None:
            by_shard[path].append(row["key"])
    found: dict[str, bytes] = {}
    for path, keys in sorted(by_shard.items()):
        if output.exists(path):
            found.update(shard_jpegs(output, path, keys))
    return found


def shard_jpegs(output: Output, shard: str, keys: Iterable[str]) -> dict[str, bytes]:
    """{key: JPEG bytes} of the wanted keys found in one shard (a path relative to OUTPUT).

    The shard is read as a seekable file: tarfile skips over the data of unwanted members,
    so only headers and the wanted images are read, also from an object store."""
    wanted = {f"{key}.jpg": key for key in keys}
    found: dict[str, bytes] = {}
    with output.fs.open_input_file(output.path(shard)) as raw:
        with tarfile.open(fileobj=raw, mode="r:") as tar:
            for member in tar:
                key = wanted.get(member.name)
                if key is None or not member.isfile() or member.size > MAX_JPEG_BYTES:
                    continue
                found[key] = cast(IO[bytes], tar.extractfile(member)).read()
                if len(found) == len(wanted):
                    break
    return found


def staged_jpegs(output: Output, keys: Iterable[str]) -> dict[str, bytes]:
    """{key: JPEG bytes} of the wanted keys from the newest staging generation that holds
    them; keys whose newest record has no image (or that are not staged) are absent."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    wanted = pc.field("key").isin(keys)
    columns = ["key", "generation", "jpeg_offset", "image_bytes", "jpeg_crc32"]
    newest: dict[str, tuple[str, dict]] = {}  # key -> (chunk, its newest row)
    for chunk in complete_chunks(output):  # rows only: the JPEGs are read below, once
        for row in _read(output, chunk, columns, wanted).to_pylist():
            current = newest.get(row["key"])
            if current is None or row["generation"] > current[1]["generation"]:
                newest[row["key"]] = (chunk, row)
    by_chunk: dict[str, list[dict]] = {}
    for chunk, row in newest.values():
        if row["jpeg_offset"] is not None and 0 < row["image_bytes"] <= MAX_JPEG_BYTES:
            by_chunk.setdefault(chunk, []).append(row)
    found: dict[str, bytes] = {}
    for chunk, rows in sorted(by_chunk.items()):
        spans = [(row["jpeg_offset"], row["image_bytes"], row["jpeg_crc32"]) for row in rows]
        try:
            jpegs = read_jpegs(output, chunk, spans)
        except StagingError as exc:  # the card shows these figures without their image
            log.warning("%s", exc)
            continue
        for row, jpeg in zip(rows, jpegs, strict=True):
            found[row["key"]] = jpeg
    return found


def staging_present(output: Output) -> bool:
    """Whether the build still has finished staging chunks to read dropped images from."""
    return bool(complete_chunks(output))


def _read(output: Output, chunk: str, columns: list[str], where: pc.Expression):
    path = output.path(chunk_path(chunk, FIGURES_FILE))
    return pq.read_table(path, columns=columns, filters=where, filesystem=output.fs)
