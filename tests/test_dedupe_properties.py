"""Property-based tests (hypothesis) of the dedupe invariants and order independence.
Skipped when hypothesis is not installed (it is a dev dependency)."""

from __future__ import annotations

import itertools

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pmc_pipeline.dedupe import Item, band_keys, bucket_edges, dedupe, priority, resolve  # noqa: E402
from pmc_pipeline.model import FigureStatus  # noqa: E402

KEPT = FigureStatus.KEPT


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@st.composite
def item_sets(draw, max_items: int = 40):
    """Items whose phashes cluster (few base hashes, few flipped bits) and whose pixel
    hashes repeat, so exact and near duplicates are common."""
    bases = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4))
    shas = [f"{n:064x}" for n in range(draw(st.integers(1, 12)))]
    phash_of_sha: dict[str, str] = {}
    items = []
    for index in range(draw(st.integers(1, max_items))):
        sha = draw(st.sampled_from(shas))
        if sha not in phash_of_sha:  # the same pixels always have the same phash
            value = draw(st.sampled_from(bases))
            for bit in draw(st.lists(st.integers(0, 63), max_size=6)):
                value ^= 1 << bit
            phash_of_sha[sha] = f"{value:016x}"
        area = draw(st.sampled_from([1, 2, 3]))
        items.append(Item(f"k{index:03d}", sha, phash_of_sha[sha], priority(area, 1)))
    return items


@settings(max_examples=150, deadline=None)
@given(item_sets(), st.integers(0, 8), st.randoms(use_true_random=False))
def test_invariants_and_order_independence(items, threshold, rnd):
    result = dedupe(items, threshold)
    assert dedupe(items, threshold, depth=1) == result  # depth changes the cost only
    by_key = {it.key: it for it in items}
    kept = [by_key[k] for k, (status, _) in result.items() if status == KEPT]
    for a, b in itertools.combinations(kept, 2):
        assert hamming(a.phash, b.phash) > threshold
    for key, (status, duplicate_of) in result.items():
        if status != KEPT:
            assert result[duplicate_of][0] == KEPT
            assert hamming(by_key[key].phash, by_key[duplicate_of].phash) <= threshold
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert dedupe(shuffled, threshold) == result


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**64 - 1), st.data(), st.integers(0, 12), st.sampled_from([1, 2]))
def test_banding_recall_is_exact(value, data, threshold, depth):
    bits = data.draw(st.lists(st.integers(0, 63), max_size=threshold, unique=True))
    other = value
    for bit in bits:
        other ^= 1 << bit
    a, b = f"{value:016x}", f"{other:016x}"
    assert set(band_keys(a, threshold, depth)) & set(band_keys(b, threshold, depth))


@settings(max_examples=100, deadline=None)
@given(item_sets(max_items=30), st.integers(0, 8), st.randoms(use_true_random=False))
def test_resolve_is_independent_of_the_order_of_items_and_edges(items, threshold, rnd):
    unique = list({it.phash: it for it in items}.values())
    buckets: dict[str, list[Item]] = {}
    for it in unique:
        for key in band_keys(it.phash, threshold):
            buckets.setdefault(key, []).append(it)
    edges = [e for key, members in buckets.items() for e in bucket_edges(members, threshold, key)]
    expected = resolve(unique, edges)
    rnd.shuffle(unique)
    rnd.shuffle(edges)
    assert resolve(unique, edges + edges[:3]) == expected  # duplicate edges are harmless
    assert set(expected.values()).isdisjoint(expected)  # every dropped one names a kept one
