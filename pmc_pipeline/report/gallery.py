"""The gallery: a few dozen random pairs per split, the same ones every time the card is made.

Sampling is a bottom-k over a stable hash: for each split, the k keys whose hash of
'<seed>:<key>' is smallest. It depends only on the set of keys and the seed (not on file
order, shard count or machine), streams over any number of pairs with k keys in memory per
split, and a build that grows keeps most of its previous sample.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Mapping

import pyarrow as pa

from pmc_pipeline.outputs import Output
from pmc_pipeline.report.data import by_key, read_pairs
from pmc_pipeline.report.jpegs import published_jpegs
from pmc_pipeline.staging import stable_hash

DEFAULT_PER_SPLIT = 24
DEFAULT_PER_TYPE = 4
BATCH_ROWS = 65_536


def sample_keys(pairs: pa.Table, per_split: int, seed: int = 0) -> dict[str, list[str]]:
    """{split: up to per_split keys}, in sample order (ascending hash)."""
    heaps: dict[str, list[tuple[int, str]]] = defaultdict(list)
    # Batch by batch, so that only one batch of keys is ever held as Python strings.
    for batch in pairs.select(["split", "key"]).to_batches(max_chunksize=BATCH_ROWS):
        splits, keys = batch.column("split").to_pylist(), batch.column("key").to_pylist()
        for split, key in zip(splits, keys, strict=True):
            # A max-heap of the per_split smallest hashes so far (negated for heapq).
            entry = (-stable_hash(f"{seed}:{key}"), key)
            heap = heaps[split]
            if len(heap) < per_split:
                heapq.heappush(heap, entry)
            elif per_split and entry > heap[0]:
                heapq.heapreplace(heap, entry)
    return {split: [key for _, key in sorted(heap, reverse=True)] for split, heap in heaps.items()}


def sample_keys_by_type(pairs: pa.Table, per_type: int, seed: int = 0) -> dict[str, list[str]]:
    """{figure type: up to per_type keys}, the same bottom-k over stable hashes as
    sample_keys, over the pairs of each type (a pair may be drawn for several types)."""
    heaps: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for batch in pairs.select(["figure_types", "key"]).to_batches(max_chunksize=BATCH_ROWS):
        types, keys = batch.column("figure_types").to_pylist(), batch.column("key").to_pylist()
        for names, key in zip(types, keys, strict=True):
            entry = (-stable_hash(f"{seed}:{key}"), key)
            for name in names or ():
                heap = heaps[name]
                if len(heap) < per_type:
                    heapq.heappush(heap, entry)
                elif per_type and entry > heap[0]:
                    heapq.heapreplace(heap, entry)
    return {name: [key for _, key in sorted(heap, reverse=True)] for name, heap in heaps.items()}


def read_type_gallery(
    output: Output, pairs: pa.Table, per_type: int, seed: int = 0
) -> tuple[dict[str, list[Mapping]], dict[str, bytes]]:
    """({figure type: pair rows in sample order}, {key: published JPEG})."""
    chosen = sample_keys_by_type(pairs, per_type, seed)
    rows = by_key(read_pairs(output, [k for keys in chosen.values() for k in keys]))
    gallery = {name: [rows[k] for k in keys if k in rows] for name, keys in chosen.items()}
    return gallery, published_jpegs(output, rows.values())


def read_gallery(
    output: Output, pairs: pa.Table, per_split: int, seed: int = 0
) -> tuple[dict[str, list[Mapping]], dict[str, bytes]]:
    """({split: pair rows in sample order}, {key: published JPEG}) of the gallery."""
    chosen = sample_keys(pairs, per_split, seed)
    rows = by_key(read_pairs(output, [k for keys in chosen.values() for k in keys]))
    gallery = {split: [rows[k] for k in keys if k in rows] for split, keys in chosen.items()}
    return gallery, published_jpegs(output, rows.values())
