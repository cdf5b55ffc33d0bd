"""The gallery: a few dozen random pairs per split, the same ones every time the card is made.

Sampling is a bottom-k over a stable hash: for each split, the k keys whose hash of
'<seed>:<key>' is smallest. It depends only on the set of keys and the seed (not on file
order, shard count or machine), streams over any number of pairs with k keys in memory per
split, and a build that grows keeps most of its previous sample.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

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
    members = (
        (split, key)
        for splits, keys in _columns(pairs, "split")
        for split, key in zip(splits, keys, strict=True)
    )
    return _bottom_k(members, per_split, seed)


def sample_keys_by_type(pairs: pa.Table, per_type: int, seed: int = 0) -> dict[str, list[str]]:
    """{figure type: up to per_type keys}, the same bottom-k over stable hashes as
    sample_keys, over the pairs of each type (a pair may be drawn for several types)."""
    members = (
        (name, key)
        for types, keys in _columns(pairs, "figure_types")
        for names, key in zip(types, keys, strict=True)
        for name in names or ()
    )
    return _bottom_k(members, per_type, seed)


def _columns(pairs: pa.Table, column: str) -> Iterator[tuple[list, list]]:
    """(the column's values, the keys) batch by batch, so that only one batch of keys is
    ever held as Python strings."""
    for batch in pairs.select([column, "key"]).to_batches(max_chunksize=BATCH_ROWS):
        yield batch.column(column).to_pylist(), batch.column("key").to_pylist()


def _bottom_k(members: Iterable[tuple[str, str]], k: int, seed: int) -> dict[str, list[str]]:
    """{group: the k keys of the group whose hash of '<seed>:<key>' is smallest, ascending}
    from (group, key) pairs."""
    heaps: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for group, key in members:
        # A max-heap of the k smallest hashes so far (negated for heapq).
        entry = (-stable_hash(f"{seed}:{key}"), key)
        heap = heaps[group]
        if len(heap) < k:
            heapq.heappush(heap, entry)
        elif k and entry > heap[0]:
            heapq.heapreplace(heap, entry)
    return {group: [key for _, key in sorted(heap, reverse=True)] for group, heap in heaps.items()}


def read_type_gallery(
    output: Output, pairs: pa.Table, per_type: int, seed: int = 0
) -> tuple[dict[str, list[Mapping]], dict[str, bytes]]:
    """({figure type: pair rows in sample order}, {key: published JPEG})."""
    return _read_chosen(output, sample_keys_by_type(pairs, per_type, seed))


def read_gallery(
    output: Output, pairs: pa.Table, per_split: int, seed: int = 0
) -> tuple[dict[str, list[Mapping]], dict[str, bytes]]:
    """({split: pair rows in sample order}, {key: published JPEG}) of the gallery."""
    return _read_chosen(output, sample_keys(pairs, per_split, seed))


def _read_chosen(
    output: Output, chosen: dict[str, list[str]]
) -> tuple[dict[str, list[Mapping]], dict[str, bytes]]:
    """The pair rows of the keys chosen per group, in their order (a key whose row is gone
    is left out), and the published JPEGs of those rows."""
    rows = by_key(read_pairs(output, [k for keys in chosen.values() for k in keys]))
    gallery = {group: [rows[k] for k in keys if k in rows] for group, keys in chosen.items()}
    return gallery, published_jpegs(output, rows.values())
