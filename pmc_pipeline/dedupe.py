"""Exact and near-duplicate dedupe of figure images, and decontamination.

An item is one candidate figure: `Item(key, pixel_sha256, phash, priority)`. Among items
that are duplicates of each other the *canonical* one is kept: the one with the smallest
`rank(item) = (item.priority, item.key)`. The usual priority is `priority(orig_width,
orig_height)`, i.e. the larger original picture first, then key order ('PMC10...' <
'PMC9...': plain string order, the same on every machine).

The stages are small pure functions, so that a Beam pipeline can run each one per key
after a GroupByKey and `dedupe()` can run them all in one process; both give the same
answer, whatever order items and edges arrive in.

1. Exact: group by pixel_sha256; `collapse(group)` keeps the canonical item, the others
   are DUPLICATEs of it.
2. Same perceptual hash: group the survivors by phash; `collapse(group)` again. (Optional:
   it changes no decision, see `resolve`, but a thousand near-blank panels sharing one
   phash would otherwise make a million distance-0 edges.)
3. Near: LSH banding. `band_keys(phash, t)` splits the 64 bits into t + 1 bands; two
   hashes within Hamming distance t differ in at most t bits, so at least one band is
   identical (pigeonhole) and they share that bucket: recall is exact. Per bucket,
   `bucket_edges(items, t, bucket_key)` compares all pairs (numpy XOR + popcount) and
   returns those within t, each pair from one bucket only (its first shared key).
   `band_keys(phash, t, depth=2)` cuts the bits outside each band into t + 1 sub-bands
   again: (t + 1)**2 keys per hash instead of t + 1, buckets ~2**((64 - w)/(t + 1)) times
   smaller, the same pairs; the pairs compared then grow with n, not n**2.
4. `resolve(items, edges)`: greedy in rank order, an item is kept unless an already kept
   item is within the threshold; a dropped item names its closest kept neighbour.
   Invariants: no two kept items are within the threshold; every dropped item names a
   kept one; the result depends only on the set of items and edges.
5. `decisions(...)` chains the three maps: a dropped item's duplicate_of is always a kept
   item; its status is DUPLICATE when the pixels are the same, NEAR_DUPLICATE otherwise.

Decontamination drops candidates whose pixel_sha256 or phash is on a list of evaluation-set
hashes (`load_hash_list`, `contamination_reason`); it runs before dedupe, so that a
contaminated image is never the canonical copy of a kept one.
"""

from __future__ import annotations

import array
import hashlib
import operator
import os
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from pmc_pipeline.model import FigureStatus

DEFAULT_THRESHOLD = 4  # Hamming distance on the 64-bit phash, of 64
HASH_BITS = 64

CONTAMINATED_EXACT = "contaminated_exact"  # same decoded pixels as a listed image
CONTAMINATED_NEAR = "contaminated_near"  # phash within the threshold of a listed phash
EXACT_DUPLICATE = "exact_duplicate"  # reason of a DUPLICATE: same pixels as duplicate_of
NEAR_DUPLICATE = "near_duplicate"  # reason of a NEAR_DUPLICATE: phash within the threshold

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PHASH = re.compile(r"^[0-9a-f]{16}$")
# Upper bound on the XOR matrix one bucket_edges step builds (elements, 8 bytes each).
_BLOCK_ELEMENTS = 1 << 22


class Item(NamedTuple):
    key: str
    pixel_sha256: str
    phash: str  # 16 hex digits
    priority: tuple = ()  # smaller is preferred; see priority()


Edge = tuple[str, str, int]  # (key, key, Hamming distance), the smaller key first
Decision = tuple[str, str | None]  # (FigureStatus, duplicate_of)


def priority(orig_width: int, orig_height: int) -> tuple:
    """The usual priority: the larger original picture (more pixels) is preferred."""
    return (-(orig_width * orig_height),)


def item_of(figure: Mapping) -> Item:
    """The dedupe item of a figure row (staging or published): the usual priority."""
    return Item(
        figure["key"],
        figure["pixel_sha256"],
        figure["phash"],
        priority(figure["orig_width"], figure["orig_height"]),
    )


def rank(item: Item) -> tuple:
    """The total order that picks canonical items: priority, then key."""
    return (item.priority, item.key)


# --- exact and same-phash groups ------------------------------------------------------------


def collapse(group: Iterable[Item]) -> tuple[Item, dict[str, str]]:
    """The canonical item of a group of duplicates, and {other key: canonical key}."""
    items = sorted(group, key=rank)
    if not items:
        raise ValueError("collapse of an empty group")
    keep = items[0]
    return keep, {item.key: keep.key for item in items[1:]}


# --- near duplicates: banding, edges, resolution ---------------------------------------------


def _check_threshold(threshold: int) -> None:
    if not 0 <= threshold < HASH_BITS:
        raise ValueError(f"threshold must be in 0..{HASH_BITS - 1}, got {threshold}")


@lru_cache(maxsize=64)
def band_layout(threshold: int) -> tuple[tuple[int, int], ...]:
    """(shift, width) of each of the threshold + 1 bands, widths as equal as possible."""
    _check_threshold(threshold)
    bands = threshold + 1
    base, extra = divmod(HASH_BITS, bands)
    layout, shift = [], HASH_BITS
    for index in range(bands):
        width = base + (1 if index < extra else 0)
        shift -= width
        layout.append((shift, width))
    return tuple(layout)


class _BucketKind(NamedTuple):
    """One of the key kinds every hash gets a bucket key of."""

    name: str  # 'b2' (band 2) or 'b2s3' (band 2, then sub-band 3 of the other bits)
    mask: int  # the bits the bucket value is made of
    shift: int  # the mask's lowest bit (depth 1 keys are written shifted down)
    earlier: tuple[int, ...]  # masks of the kinds before it: a pair sharing one is found there


def _bits(mask: int) -> list[int]:
    return [bit for bit in range(HASH_BITS - 1, -1, -1) if mask >> bit & 1]


def _split(bits: list[int], parts: int) -> list[int]:
    """The bits (high to low) cut into `parts` runs of nearly equal length, as masks."""
    base, extra = divmod(len(bits), parts)
    masks, start = [], 0
    for index in range(parts):
        stop = start + base + (1 if index < extra else 0)
        masks.append(sum(1 << bit for bit in bits[start:stop]))
        start = stop
    return masks


@lru_cache(maxsize=64)
def _bucket_kinds(threshold: int, depth: int) -> tuple[_BucketKind, ...]:
    """Depth 1: the t + 1 bands. Depth 2: per band, the other 64 - w bits cut again into
    t + 1 sub-bands, (t + 1)**2 kinds of about w + (64 - w)/(t + 1) bits each. A pair within
    t shares a band (pigeonhole); its at most t differing bits then lie outside that band,
    so it also shares one of the band's sub-bands (pigeonhole again): recall stays exact,
    and buckets are about 2**((64 - w)/(t + 1)) times smaller."""
    _check_threshold(threshold)
    if depth not in (1, 2):
        raise ValueError(f"depth must be 1 or 2, got {depth}")
    bands = [((1 << width) - 1) << shift for shift, width in band_layout(threshold)]
    if depth == 1:
        return tuple(
            _BucketKind(f"b{i}", mask, shift, tuple(bands[:i]))
            for i, (mask, (shift, _)) in enumerate(zip(bands, band_layout(threshold), strict=True))
        )
    kinds = []
    for i, band in enumerate(bands):
        subs = _split(_bits(((1 << HASH_BITS) - 1) & ~band), threshold + 1)
        for j, sub in enumerate(subs):
            kinds.append(_BucketKind(f"b{i}s{j}", band | sub, 0, tuple(bands[:i] + subs[:j])))
    return tuple(kinds)


def phash_int(phash: str) -> int:
    if not _PHASH.match(phash):
        raise ValueError(f"not a 64-bit phash (16 lowercase hex digits): {phash!r}")
    return int(phash, 16)


# Up to this many items, one level of bands costs less than two: the buckets stay small
# enough (about n / 2**(64 / (t + 1)) items) that comparing within them is cheaper than
# handing each item to (t + 1)**2 buckets instead of t + 1.
ONE_LEVEL_UP_TO = 2_000_000


def band_depth(expected_items: int) -> int:
    """The banding depth for about this many items (the cost, never the result)."""
    return 1 if expected_items <= ONE_LEVEL_UP_TO else 2


# Up to this many candidates, a pipeline decides them in one place (decide_all) rather than
# stage by stage: a few hundred MB of items, and one step instead of a chain of shuffles.
IN_ONE_PLACE_UP_TO = 2_000_000


def decide_all(
    items: Iterable[Item],
    threshold: int | None = DEFAULT_THRESHOLD,
    decontaminate: Collection[str] = frozenset(),
) -> dict[str, tuple[str, str | None, str | None] | None]:
    """Every candidate's (status, reason, duplicate_of), None when kept: decontamination
    first (it is the stronger reason, and a contaminated image is never the canonical copy
    of a kept one), then dedupe over the clean ones — what the staged Beam transform
    decides, in one process."""
    items = list(items)
    out: dict[str, tuple[str, str | None, str | None] | None] = {}
    clean = []
    for item in items:
        contaminated = contamination_decision(item, decontaminate, threshold)
        if contaminated:
            out[item.key] = contaminated
        else:
            clean.append(item)
    out.update(decide_clean(clean, threshold))
    return out


def contamination_decision(
    item: Item, hashes: Collection[str], threshold: int | None = DEFAULT_THRESHOLD
) -> tuple[str, str, None] | None:
    """decide_all's first step for one item: (CONTAMINATED, reason, None), or None when the
    item is clean (see contamination_reason)."""
    reason = contamination_reason(item, hashes, threshold)
    return (FigureStatus.CONTAMINATED, reason, None) if reason else None


def decide_clean(
    clean: list[Item], threshold: int | None = DEFAULT_THRESHOLD
) -> Iterator[tuple[str, tuple[str, str | None, str | None] | None]]:
    """(key, (status, reason, duplicate_of) or None when kept) of every item, dedupe only:
    decide_all's second step, over items that passed decontamination. What decisions()
    gives, without its maps of every item: only a key that a stage moved can end
    elsewhere than itself (a stage maps members to heads that no later stage maps back),
    so only those keys, and where they end, are followed and compared."""
    exact_of, same_phash_of, near_of, _ = _stage_maps(clean, threshold, band_depth(len(clean)))
    final_of: dict[str, str] = {}
    stages = (exact_of, same_phash_of, near_of)
    for moved in stages:
        for key in moved:
            final_of[key] = _chain_end(key, stages)
    involved = final_of.keys() | set(final_of.values())
    sha = {item.key: item.pixel_sha256 for item in clean if item.key in involved}
    del involved
    for item in clean:
        final = final_of.get(item.key, item.key)
        if final == item.key:
            yield item.key, None
            continue
        same = sha[final] == sha[item.key]
        status = FigureStatus.DUPLICATE if same else FigureStatus.NEAR_DUPLICATE
        yield item.key, (status, reason_of(status), final)


class Candidates:
    """Dedupe items held in columns, for deciding very many in one place (decide_candidates):
    per item its key's UTF-8 bytes, its pixel digest (32 bytes), its phash (8 bytes) and
    its priority (8 bytes), about 90 bytes in numpy and array buffers instead of the few
    hundred of an Item's Python objects, and nothing left in the heap once it is freed.

    Items must have the usual one-number priority (`priority()`). A pixel_sha256 that is
    not 64 lowercase hex digits is held as the sha256 of its text: the dedupe only compares
    pixel hashes for equality, and two different texts never share that digest.
    """

    _BLOCK = 4096  # keys kept as Python bytes until a block of them goes to numpy

    def __init__(self) -> None:
        self._key_blocks: list[np.ndarray] = []
        self._keys: list[bytes] = []
        self._sha = bytearray()
        self._phash = array.array("Q")
        self._priority = array.array("q")

    def __len__(self) -> int:
        return len(self._priority)

    def add(self, item: Item) -> None:
        if len(item.priority) != 1 or type(item.priority[0]) is not int:
            raise ValueError(f"{item.key!r}: a one-number priority is needed, got {item.priority}")
        key = item.key.encode("utf-8", "surrogatepass")
        if b"\0" in key:  # numpy's fixed-width bytes would lose a trailing NUL
            raise ValueError(f"a key with a NUL character: {item.key!r}")
        self._keys.append(key)
        if len(self._keys) >= self._BLOCK:
            self._flush()
        sha = item.pixel_sha256
        if _SHA256.fullmatch(sha):
            self._sha += bytes.fromhex(sha)
        else:
            self._sha += hashlib.sha256(sha.encode("utf-8", "surrogatepass")).digest()
        self._phash.append(phash_int(item.phash))
        self._priority.append(item.priority[0])

    def _flush(self) -> None:
        if self._keys:
            self._key_blocks.append(np.array(self._keys, dtype=np.bytes_))
            self._keys = []

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(keys as bytes, pixel digests as 32 bytes, phashes as uint64, priorities as
        int64), in the order the items were added. The arrays share the buffers the items
        were added to: add nothing after this (the buffers refuse to grow while shared)."""
        self._flush()
        if self._key_blocks:
            self._key_blocks = [np.concatenate(self._key_blocks)]
        keys = self._key_blocks[0] if self._key_blocks else np.zeros(0, dtype="S1")
        sha = np.frombuffer(self._sha, dtype="S32") if self._sha else np.zeros(0, dtype="S32")
        return (
            keys,
            sha,
            np.frombuffer(self._phash, dtype=np.uint64),
            np.frombuffer(self._priority, dtype=np.int64),
        )


def decide_candidates(
    candidates: Candidates, threshold: int | None = DEFAULT_THRESHOLD
) -> dict[str, tuple[str, str | None, str]]:
    """{key: (status, reason, duplicate_of)} of every candidate that is not kept: what
    decide_clean decides (the same stages, orders and chains), computed on the columns.
    Only the items that near dedupe joins by an edge become Items, for resolve()."""
    keys, sha, phash, priority = candidates.columns()
    n = len(keys)
    if len(np.unique(keys)) != n:
        raise ValueError("item keys must be unique")
    depth = band_depth(n)
    if threshold is not None:
        _bucket_kinds(threshold, depth)  # validates both
    everyone = np.arange(n)
    # 1. exact: each item to the head of its pixel group, in (sha, priority, key) order
    exact, survivors = _collapse_columns(everyone, sha, priority, keys)
    final = exact
    if threshold is not None:
        # 2. the survivors with the same phash, to the head of their group
        same_phash, representatives = _collapse_columns(survivors, phash, priority, keys)
        final = same_phash[final]
        # 3. near duplicates among the representatives (resolve depends only on the set of
        # items and edges, so their order does not matter)
        low, high, distance, _ = _pairs_by_banding(phash[representatives], threshold, depth)
        low, high = representatives[low], representatives[high]
        joined = np.unique(np.concatenate([low, high]))
        key_of = {int(i): _text(keys[i]) for i in joined}
        index_of = {key: i for i, key in key_of.items()}
        near_of = resolve(
            (Item(key_of[i], "", "", (int(priority[i]),)) for i in key_of),
            (
                (key_of[a], key_of[b], d)
                for a, b, d in zip(low.tolist(), high.tolist(), distance.tolist(), strict=True)
            ),
        )
        near = everyone.copy()
        for key, kept in near_of.items():
            near[index_of[key]] = index_of[kept]
        final = near[final]
    out: dict[str, tuple[str, str | None, str]] = {}
    for i in np.flatnonzero(final != everyone).tolist():
        status = FigureStatus.DUPLICATE if sha[final[i]] == sha[i] else FigureStatus.NEAR_DUPLICATE
        out[_text(keys[i])] = (status, reason_of(status), _text(keys[final[i]]))
    return out


def _text(key: bytes) -> str:
    """A key of Candidates.columns() as the text it was added as."""
    return key.decode("utf-8", "surrogatepass")


def _collapse_columns(
    members: np.ndarray, value: np.ndarray, priority: np.ndarray, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """_collapse_by on columns: (head, heads) where head[i] is the head of member i's group
    of equal `value` (the first in (value, priority, key) order; i itself for non-members)
    and heads are the heads, in that order."""
    order = members[np.lexsort((keys[members], priority[members], value[members]))]
    in_order = value[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = in_order[1:] != in_order[:-1]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    head = np.arange(len(keys))
    head[order] = order[group_start]
    return head, order[starts]


def band_keys(phash: str, threshold: int, depth: int = 1) -> list[str]:
    """The LSH bucket keys of a phash: '<kind>:<hex value of its bits>'.

    depth=1: threshold + 1 keys 'b<band>:<bits>'. depth=2: (threshold + 1)**2 keys
    'b<band>s<sub-band>:<bits>' with much smaller buckets (see _bucket_kinds); worth it when
    the bucket sizes of depth 1 (about n / 2**(64 / (threshold + 1))) grow large.
    """
    value = phash_int(phash)
    return [
        f"{kind.name}:{(value & kind.mask) >> kind.shift:x}"
        for kind in _bucket_kinds(threshold, depth)
    ]


_KEY = re.compile(r"^b(\d+)(s\d+)?:[0-9a-f]+$")


def _kind_of(bucket_key: str, threshold: int) -> _BucketKind:
    match = _KEY.match(bucket_key)
    if not match:
        raise ValueError(f"not a bucket key: {bucket_key!r}")
    name = bucket_key.split(":", 1)[0]
    for kind in _bucket_kinds(threshold, 2 if match.group(2) else 1):
        if kind.name == name:
            return kind
    raise ValueError(f"bucket key {bucket_key!r} does not belong to threshold {threshold}")


def bucket_edges(
    items: Iterable[Item], threshold: int, bucket_key: str | None = None
) -> list[Edge]:
    """All pairs of items in one bucket within the Hamming threshold, sorted.

    With the bucket's key, a pair is returned only from the first kind of key its two hashes
    share, so over all buckets each pair comes out exactly once; without it, every pair
    within the threshold in this group is returned.
    """
    items = sorted(items, key=lambda item: item.key)
    if len(items) < 2:
        return []
    values = np.array([phash_int(item.phash) for item in items], dtype=np.uint64)
    earlier = None
    if bucket_key is not None:
        earlier = np.array(_kind_of(bucket_key, threshold).earlier, dtype=np.uint64)
    first, second, distance = _pairs_within(values, threshold, earlier)
    return sorted(
        _edge(items[i].key, items[j].key, int(d))
        for i, j, d in zip(first, second, distance, strict=True)
    )


def _edge(a: str, b: str, distance: int) -> Edge:
    return (a, b, distance) if a < b else (b, a, distance)


def _pairs_within(
    values: np.ndarray, threshold: int, earlier_masks: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs i < j of `values` whose Hamming distance is <= threshold (and, given
    earlier_masks, whose hashes differ under every one of them), with the distances.
    Row blocks bound memory to _BLOCK_ELEMENTS whatever the bucket size."""
    n = len(values)
    rows_per_block = max(1, _BLOCK_ELEMENTS // n)
    found_i, found_j, found_d = [], [], []
    for start in range(0, n - 1, rows_per_block):
        stop = min(start + rows_per_block, n - 1)
        # Row i is compared with columns start+1.., of which those > i count (i < j).
        xor = values[start:stop, None] ^ values[None, start + 1 :]
        distance = _popcount(xor)
        above_diagonal = np.arange(start + 1, n)[None, :] > np.arange(start, stop)[:, None]
        i, j = np.nonzero((distance <= threshold) & above_diagonal)
        if earlier_masks is not None and len(earlier_masks) and len(i):
            shared_earlier = ((xor[i, j][:, None] & earlier_masks[None, :]) == 0).any(axis=1)
            i, j = i[~shared_earlier], j[~shared_earlier]
        found_i.append(i + start)
        found_j.append(j + start + 1)
        found_d.append(distance[i, j])
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


if hasattr(np, "bitwise_count"):  # numpy >= 2.0

    def _popcount(values: np.ndarray) -> np.ndarray:
        return np.bitwise_count(values)

else:  # numpy 1.26: count set bits byte by byte
    _BYTE_BITS = np.array([bin(b).count("1") for b in range(256)], dtype=np.uint8)

    def _popcount(values: np.ndarray) -> np.ndarray:
        as_bytes = values.view(np.uint8).reshape(values.shape + (8,))
        return _BYTE_BITS[as_bytes].sum(axis=-1, dtype=np.uint8)


def resolve(items: Iterable[Item], edges: Iterable[Edge]) -> dict[str, str]:
    """{dropped key: kept key} for near duplicates; items not in the result are kept.

    Which items stay is decided greedily in rank order: an item is kept unless an edge joins
    it to an item already kept. Then each dropped item names its closest kept neighbour
    (ties: the best ranked), among all kept items, not only those ranked before it: so
    items with the same phash always name the same one, whichever stages ran. `edges`
    must hold every pair within the threshold (bucket_edges over all buckets does); items
    without edges may be left out; duplicate edges are harmless.
    """
    by_key: dict[str, Item] = {}
    for item in items:
        if by_key.setdefault(item.key, item) != item:
            raise ValueError(f"two different items with key {item.key!r}")
    neighbours: dict[str, dict[str, int]] = defaultdict(dict)
    for a, b, distance in edges:
        if a not in by_key or b not in by_key:
            raise ValueError(f"edge ({a!r}, {b!r}) names an item that was not given")
        neighbours[a][b] = neighbours[b][a] = distance
    kept: set[str] = set()
    for item in sorted((by_key[k] for k in neighbours), key=rank):
        if kept.isdisjoint(neighbours[item.key]):
            kept.add(item.key)
    return {
        key: min((d, rank(by_key[k])) for k, d in close.items() if k in kept)[1][1]
        for key, close in neighbours.items()
        if key not in kept
    }


# --- final decisions ----------------------------------------------------------------------------


def decisions(
    items: Iterable[Item],
    exact_of: Mapping[str, str],
    same_phash_of: Mapping[str, str],
    near_of: Mapping[str, str],
) -> dict[str, Decision]:
    """(status, duplicate_of) of every item from the three stages' maps.

    A dropped item's duplicate_of is followed to a kept item: an exact duplicate of an item
    that was itself dropped as a near duplicate names that item's kept neighbour (and is
    then a NEAR_DUPLICATE of it, since its pixels differ from the kept one's).
    """
    sha = {item.key: item.pixel_sha256 for item in items}
    out: dict[str, Decision] = {}
    for key in sha:
        final = _chain_end(key, (exact_of, same_phash_of, near_of))
        if final == key:
            out[key] = (FigureStatus.KEPT, None)
        elif sha[final] == sha[key]:
            out[key] = (FigureStatus.DUPLICATE, final)
        else:
            out[key] = (FigureStatus.NEAR_DUPLICATE, final)
    return out


def _chain_end(key: str, stages: tuple[Mapping[str, str], ...]) -> str:
    """Where a key ends when each stage's map is followed in turn (itself if none moves it)."""
    for stage in stages:
        key = stage.get(key, key)
    return key


def final_decision(key: str, canonical_key: str, final_key: str) -> tuple[str, str, str] | None:
    """A candidate's (status, reason, duplicate_of) once its chain of stages is followed:
    `canonical_key` is the kept item of its exact group, `final_key` where the chain ends
    (a kept item). None: the candidate itself is kept. Same pixels as the kept one (it is
    the exact group's canonical item): DUPLICATE; otherwise NEAR_DUPLICATE."""
    if final_key == key:
        return None
    if final_key == canonical_key:
        return FigureStatus.DUPLICATE, EXACT_DUPLICATE, final_key
    return FigureStatus.NEAR_DUPLICATE, NEAR_DUPLICATE, final_key


def reason_of(status: str) -> str | None:
    """The reason recorded with a dedupe status (None for any other status)."""
    reasons: dict[str, str] = {
        FigureStatus.DUPLICATE: EXACT_DUPLICATE,
        FigureStatus.NEAR_DUPLICATE: NEAR_DUPLICATE,
    }
    return reasons.get(status)


@dataclass(frozen=True)
class BucketStats:
    """How large the LSH buckets were: the cost of near dedupe grows with sum(size**2)."""

    buckets: int = 0  # buckets holding at least one item
    entries: int = 0  # items x bands
    max_size: int = 0
    pairs: int = 0  # pairs compared: sum of size * (size - 1) / 2

    @classmethod
    def of_sizes(cls, sizes: Iterable[int] | np.ndarray) -> BucketStats:
        sizes = np.fromiter(sizes, dtype=np.int64)
        sizes = sizes[sizes > 0]
        if not sizes.size:
            return cls()
        pairs = int((sizes * (sizes - 1) // 2).sum())
        return cls(int(sizes.size), int(sizes.sum()), int(sizes.max()), pairs)

    @property
    def mean_size(self) -> float:
        return self.entries / self.buckets if self.buckets else 0.0

    def merge(self, other: BucketStats) -> BucketStats:
        return BucketStats(
            self.buckets + other.buckets,
            self.entries + other.entries,
            max(self.max_size, other.max_size),
            self.pairs + other.pairs,
        )


def dedupe(
    items: Iterable[Item], threshold: int | None = DEFAULT_THRESHOLD, depth: int = 2
) -> dict[str, Decision]:
    """{key: (status, duplicate_of)} for every item: exact, then near dedupe (threshold None:
    exact only), in one process. `depth` (see band_keys) changes the cost, never the result.
    See dedupe_with_stats for the bucket sizes."""
    return dedupe_with_stats(items, threshold, depth)[0]


def dedupe_with_stats(
    items: Iterable[Item], threshold: int | None = DEFAULT_THRESHOLD, depth: int = 2
) -> tuple[dict[str, Decision], BucketStats]:
    """dedupe() and the LSH bucket statistics of its near stage."""
    items = list(items)
    exact_of, same_phash_of, near_of, stats = _stage_maps(items, threshold, depth)
    return decisions(items, exact_of, same_phash_of, near_of), stats


def _stage_maps(
    items: list[Item], threshold: int | None, depth: int
) -> tuple[dict[str, str], dict[str, str], dict[str, str], BucketStats]:
    """The three stages' maps (exact member -> canonical, same-phash survivor ->
    representative, near-duplicate representative -> kept neighbour) and the bucket
    statistics."""
    if len({item.key for item in items}) != len(items):
        raise ValueError("item keys must be unique")
    exact_of, survivors = _collapse_by(items, lambda item: item.pixel_sha256)
    same_phash_of: dict[str, str] = {}
    near_of: dict[str, str] = {}
    stats = BucketStats()
    if threshold is not None:
        _bucket_kinds(threshold, depth)  # validates both
        same_phash_of, representatives = _collapse_by(survivors, lambda item: item.phash)
        edges, stats = _all_edges(representatives, threshold, depth)
        near_of = resolve(representatives, edges)
    return exact_of, same_phash_of, near_of, stats


_KEY_OF = operator.attrgetter("key")
_PRIORITY_OF = operator.attrgetter("priority")


def _collapse_by(items: list[Item], field) -> tuple[dict[str, str], list[Item]]:
    """collapse() on every group of items with the same field value, in one sort (a dict of
    lists per group costs several times more at a million items)."""
    mapping: dict[str, str] = {}
    kept: list[Item] = []
    head_value: str | None = None
    head_key = ""
    # Sorted by (field, priority, key) as three stable sorts, least significant first: the
    # same order, without a key tuple per item (16 MB at 250,000 items).
    in_order = sorted(items, key=_KEY_OF)
    in_order.sort(key=_PRIORITY_OF)
    in_order.sort(key=field)
    for item in in_order:
        value = field(item)
        if kept and value == head_value:
            mapping[item.key] = head_key
        else:
            head_value, head_key = value, item.key
            kept.append(item)
    return mapping, kept


def _all_edges(items: list[Item], threshold: int, depth: int = 1) -> tuple[list[Edge], BucketStats]:
    """Every pair within the threshold, by banding: the same pairs as bucket_edges over
    every bucket with its key (see _pairs_by_banding)."""
    items = sorted(items, key=lambda item: item.key)
    if not items:
        return [], BucketStats()
    values = np.array([phash_int(item.phash) for item in items], dtype=np.uint64)
    low, high, d, stats = _pairs_by_banding(values, threshold, depth)
    # Items are in key order, so the smaller index holds the smaller key.
    keys = [item.key for item in items]
    return [
        (keys[i], keys[j], int(k))
        for i, j, k in zip(low.tolist(), high.tolist(), d.tolist(), strict=True)
    ], stats


def _pairs_by_banding(
    values: np.ndarray, threshold: int, depth: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, BucketStats]:
    """(low, high, distance, stats): the index pairs low < high of `values` (phashes as
    uint64) within the threshold, each once, and the bucket statistics.

    Sorted by a kind's value, each bucket is a run of equal values, so the pairs of every
    bucket are the pairs (i, i + d) inside a run: one vectorised step per offset d, over
    the positions whose run is still longer than d. The work is the number of pairs plus
    n per kind, with no Python loop over buckets.
    """
    found_a, found_b, found_d = [], [], []
    stats = BucketStats()
    for kind in _bucket_kinds(threshold, depth):
        bucket_values = values & np.uint64(kind.mask)
        order = np.argsort(bucket_values)  # any order within a bucket: pairs are unordered
        in_order, sorted_values = bucket_values[order], values[order]
        run_starts = np.flatnonzero(np.concatenate(([True], in_order[1:] != in_order[:-1])))
        stats = stats.merge(BucketStats.of_sizes(np.diff(run_starts, append=len(in_order))))
        earlier = np.array(kind.earlier, dtype=np.uint64)
        active = np.flatnonzero(in_order[:-1] == in_order[1:])  # runs longer than 1
        offset = 1
        while active.size:
            xor = sorted_values[active] ^ sorted_values[active + offset]
            distance = _popcount(xor)
            close = np.flatnonzero(distance <= threshold)
            if earlier.size and close.size:  # each pair from the first kind the two share
                close = close[~((xor[close, None] & earlier[None, :]) == 0).any(axis=1)]
            found_a.append(order[active[close]])
            found_b.append(order[active[close] + offset])
            found_d.append(distance[close])
            offset += 1
            active = active[active + offset < len(values)]
            active = active[in_order[active + offset] == in_order[active]]
    if not found_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.uint8), stats
    a, b, d = np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_d)
    return np.minimum(a, b), np.maximum(a, b), d, stats


# --- decontamination ------------------------------------------------------------------------------


def parse_hash_list(lines: Iterable[str]) -> frozenset[str]:
    """Hashes from the lines of a decontamination list.

    Format: one hash per line, either a pixel_sha256 (64 hex digits, as
    images.ProcessedImage computes it) or a 64-bit phash (16 hex digits, imagehash.phash);
    case is ignored. Anything after the first whitespace is a comment (e.g. the eval
    image's name); blank lines and lines starting with '#' are ignored. Any other line is
    an error, so a list in a wrong format cannot silently decontaminate nothing. Compute the
    hashes of evaluation images with images.process_image, so both sides hash the same
    normalised picture.
    """
    hashes = set()
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        value = text.split(None, 1)[0].lower()
        if not (_SHA256.match(value) or _PHASH.match(value)):
            raise ValueError(f"line {number}: not a sha256 (64 hex) or phash (16 hex): {value!r}")
        hashes.add(value)
    return frozenset(hashes)


def load_hash_list(path: str | os.PathLike) -> frozenset[str]:
    """parse_hash_list of a local text file (UTF-8)."""
    with open(path, encoding="utf-8") as handle:
        return parse_hash_list(handle)


def contamination_reason(
    item: Item, hashes: Collection[str], threshold: int | None = DEFAULT_THRESHOLD
) -> str | None:
    """CONTAMINATED_EXACT when the item's pixels are listed, CONTAMINATED_NEAR when a listed
    phash is within the threshold of its phash (threshold None: pixels only), else None.
    Pass the same frozenset every time: its band index is built once and cached."""
    if item.pixel_sha256 in hashes:
        return CONTAMINATED_EXACT
    if threshold is None:
        return None
    index = _phash_index(hashes if isinstance(hashes, frozenset) else frozenset(hashes), threshold)
    return CONTAMINATED_NEAR if index.matches(item.phash) else None


class _PhashIndex:
    """The listed phashes bucketed by band, for lookups within the threshold."""

    def __init__(self, hashes: frozenset[str], threshold: int) -> None:
        self.threshold = threshold
        buckets: dict[str, list[int]] = defaultdict(list)
        for value in hashes:
            if len(value) == 16:
                for key in band_keys(value, threshold):
                    buckets[key].append(int(value, 16))
        self.buckets = {key: np.array(vals, dtype=np.uint64) for key, vals in buckets.items()}

    def matches(self, phash: str) -> bool:
        value = np.uint64(phash_int(phash))
        for key in band_keys(phash, self.threshold):
            listed = self.buckets.get(key)
            if listed is not None and (_popcount(listed ^ value) <= self.threshold).any():
                return True
        return False


@lru_cache(maxsize=4)
def _phash_index(hashes: frozenset[str], threshold: int) -> _PhashIndex:
    _check_threshold(threshold)
    return _PhashIndex(hashes, threshold)
