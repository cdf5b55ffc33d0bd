"""Reading a build's published files: which shards a split has, how many pairs, its
captions, and the samples of one shard.

The build (docs/design.md) writes `OUTPUT/webdataset/<split>/<split>-NNNNNN.tar` with members
`<key>.jpg`, `<key>.txt`, `<key>.json`, beside them `sizes.json` (shard file -> samples),
and `OUTPUT/stats.json` with `pairs_per_split`.
OUTPUT may be a local path, s3:// or gs:// (through pmc_pipeline.outputs.Output). The shard
files on storage are the truth; stats.json only saves a count.
"""

from __future__ import annotations

import logging
import tarfile
from collections.abc import Iterator
from typing import IO, cast

from webdataset.tariterators import base_plus_ext

from pmc_pipeline.outputs import Output
from pmc_pipeline.publish import check_not_publishing

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
# A published member is a JPEG with its longer side <= 1024 or a short text; anything this
# large is not one of ours and is skipped before it is read into memory.
MAX_MEMBER_BYTES = 32 << 20

# Reasons a sample is skipped (counted, never fatal).
UNREADABLE_SHARD = "unreadable_shard"
OVERSIZE_MEMBER = "oversize_member"


def shard_paths(data: str, split: str) -> list[str]:
    """The split's shard files, relative to OUTPUT, sorted."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of {', '.join(SPLITS)}")
    output = Output(data)
    check_not_publishing(output)  # never train on a half-published (or half-replaced) build
    prefix = f"webdataset/{split}/{split}-"
    return [p for p in output.glob_files(f"webdataset/{split}", ".tar") if p.startswith(prefix)]


def read_shard(output: Output, relpath: str, max_member_bytes: int = MAX_MEMBER_BYTES):
    """The samples of one shard as dicts {"__key__", "jpg", "txt", "json", ...}, grouping
    consecutive members by the key before the first dot (webdataset's rule).

    Problems become markers instead of exceptions: a member over `max_member_bytes` is not
    read and its sample carries "__skip__"; a shard that cannot be opened or ends early yields
    one {"__skip__": "unreadable_shard"} after the samples read so far."""
    sample: dict | None = None
    try:
        with (
            output.fs.open_input_stream(output.path(relpath)) as stream,
            tarfile.open(fileobj=stream, mode="r|") as tar,
        ):
            for info in tar:
                if not info.isfile():
                    continue
                key, ext = base_plus_ext(info.name)
                if key is None:
                    continue
                if sample is None or sample["__key__"] != key:
                    if sample is not None:
                        yield sample
                    sample = {"__key__": key, "__shard__": relpath}
                if info.size > max_member_bytes:
                    sample["__skip__"] = OVERSIZE_MEMBER
                    continue
                sample[ext.lower()] = cast(IO[bytes], tar.extractfile(info)).read()
        if sample is not None:
            yield sample
    except (OSError, EOFError, tarfile.TarError) as exc:
        log.warning("shard %s: %s", relpath, exc)
        yield {"__key__": None, "__shard__": relpath, "__skip__": UNREADABLE_SHARD}


def _count_samples(output: Output, relpath: str) -> int:
    return sum(1 for s in read_shard(output, relpath) if s["__key__"] is not None)


def shard_sizes(data: str, split: str) -> dict[str, int]:
    """Samples per shard of a split (shard path relative to OUTPUT -> samples): from the
    build's sizes.json beside the shards, else (an older build) counted by reading them."""
    output = Output(data)
    shards = shard_paths(data, split)
    listed: dict = {}
    sizes_json = f"webdataset/{split}/sizes.json"
    if output.exists(sizes_json):
        listed = output.read_json(sizes_json)
    sizes = {}
    for relpath in shards:
        name = relpath.rsplit("/", 1)[-1]
        if isinstance(listed.get(name), int):
            sizes[relpath] = listed[name]
        else:
            log.info("%s is not in %s: counting its samples", relpath, sizes_json)
            sizes[relpath] = _count_samples(output, relpath)
    return sizes


def count_pairs(data: str, split: str) -> int:
    """Pairs in a split: stats.json's pairs_per_split when present, else counted from the
    shards' members (distinct keys)."""
    output = Output(data)
    if output.exists("stats.json"):
        count = output.read_json("stats.json").get("pairs_per_split", {}).get(split)
        if isinstance(count, int):
            return count
    return sum(_count_samples(output, relpath) for relpath in shard_paths(data, split))


def iter_captions(data: str, split: str = "train", limit: int | None = None) -> Iterator[str]:
    """Captions of a split: from the Parquet pair rows when the build has them (no image
    bytes to read), else from the shards' .txt members."""
    output = Output(data)
    emitted = 0
    parquet = output.glob_files(f"parquet/pairs/{split}", ".parquet")
    if parquet:
        import pyarrow.parquet as pq

        for relpath in parquet:
            with output.fs.open_input_file(output.path(relpath)) as f:
                for batch in pq.ParquetFile(f).iter_batches(columns=["caption"]):
                    for caption in batch.column(0).to_pylist():
                        if caption:
                            yield caption
                            emitted += 1
                            if limit is not None and emitted >= limit:
                                return
        return
    for relpath in shard_paths(data, split):
        for sample in read_shard(output, relpath):
            text = sample.get("txt")
            if text:
                yield text.decode("utf-8", errors="replace")
                emitted += 1
                if limit is not None and emitted >= limit:
                    return
