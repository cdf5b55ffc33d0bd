"""pmc_pipeline.dedupe: banding recall, edges, resolution invariants, the one-call dedupe
against a brute-force reference, real thumbnails, and decontamination.
(Property-based versions of the invariants are in test_dedupe_properties.py.)"""

from __future__ import annotations

import itertools
import random

import pytest
from helpers.dedupe_items import clustered_items, flip, hexhash
from helpers.paths import shared_fixture

from pmc_pipeline import dedupe as D
from pmc_pipeline.dedupe import (
    BucketStats,
    Item,
    band_keys,
    bucket_edges,
    collapse,
    contamination_reason,
    dedupe,
    dedupe_with_stats,
    load_hash_list,
    parse_hash_list,
    priority,
    rank,
    resolve,
)
from pmc_pipeline.images import process_image
from pmc_pipeline.model import FigureStatus

KEPT, DUP, NEAR = FigureStatus.KEPT, FigureStatus.DUPLICATE, FigureStatus.NEAR_DUPLICATE


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def item(key: str, phash: str, sha: str | None = None, area: int = 100) -> Item:
    return Item(key, sha or (key.encode().hex() * 64)[:64], phash, priority(area, 1))


def reference(items: list[Item], threshold: int) -> dict:
    """The documented semantics, brute force: canonical copy per pixel hash; greedy in rank
    order over those decides what stays; a dropped one names the closest kept item; the
    other copies follow their canonical copy to a kept item."""
    canonical = {}
    for it in sorted(items, key=rank):
        canonical.setdefault(it.pixel_sha256, it)
    kept, dropped = [], []
    for it in sorted(canonical.values(), key=rank):
        if any(hamming(it.phash, k.phash) <= threshold for k in kept):
            dropped.append(it)
        else:
            kept.append(it)
    near_of = {}
    for it in dropped:  # the closest of all kept items, then the best ranked
        close = [(hamming(it.phash, k.phash), rank(k)) for k in kept]
        near_of[it.key] = min(c for c in close if c[0] <= threshold)[1][1]
    out = {}
    for it in items:
        head = canonical[it.pixel_sha256].key
        final = near_of.get(head, head)
        if final == it.key:
            out[it.key] = (KEPT, None)
        else:
            same = canonical[it.pixel_sha256].key == final
            out[it.key] = (DUP if same else NEAR, final)
    return out


def check_invariants(items: list[Item], result: dict, threshold: int) -> None:
    by_key = {it.key: it for it in items}
    assert set(result) == set(by_key)
    kept = [by_key[k] for k, (status, _) in result.items() if status == KEPT]
    for a, b in itertools.combinations(kept, 2):
        assert hamming(a.phash, b.phash) > threshold, (a.key, b.key)
        assert a.pixel_sha256 != b.pixel_sha256
    for key, (status, duplicate_of) in result.items():
        if status == KEPT:
            assert duplicate_of is None
            continue
        assert result[duplicate_of][0] == KEPT, key
        this, other = by_key[key], by_key[duplicate_of]
        assert hamming(this.phash, other.phash) <= threshold
        assert (status == DUP) == (this.pixel_sha256 == other.pixel_sha256)


# --- banding ------------------------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0, 1, 4, 7, 10, 63])
def test_band_layout_covers_64_bits(threshold):
    layout = D.band_layout(threshold)
    assert len(layout) == threshold + 1
    assert sum(width for _, width in layout) == 64
    assert max(w for _, w in layout) - min(w for _, w in layout) <= 1
    keys = band_keys("0123456789abcdef", threshold)
    assert len(keys) == len(set(keys)) == threshold + 1


def test_band_keys_format():
    assert band_keys("0123456789abcdef", 0) == ["b0:123456789abcdef"]
    assert band_keys("ffff0000ffff0000", 1) == ["b0:ffff0000", "b1:ffff0000"]
    # Depth 2 at threshold 1: band 0 (high 32 bits) plus half of the other 32 bits, ...
    assert band_keys("ffff0000ffff0000", 1, depth=2) == [
        "b0s0:ffff0000ffff0000",
        "b0s1:ffff000000000000",
        "b1s0:ffff0000ffff0000",
        "b1s1:ffff0000",
    ]


@pytest.mark.parametrize("threshold", [0, 1, 4, 9, 20])
def test_depth_2_kinds_cover_every_bit_twice_per_band(threshold):
    kinds = D._bucket_kinds(threshold, 2)
    assert len(kinds) == (threshold + 1) ** 2
    bands = [((1 << w) - 1) << s for s, w in D.band_layout(threshold)]
    for i, band in enumerate(bands):
        subs = [k.mask & ~band for k in kinds[i * (threshold + 1) : (i + 1) * (threshold + 1)]]
        assert all(
            k.mask & band == band for k in kinds[i * (threshold + 1) : (i + 1) * (threshold + 1)]
        )
        assert sum(subs) == (2**64 - 1) & ~band  # the sub-bands partition the other bits


@pytest.mark.parametrize("bad", ["", "123", "0123456789ABCDEF", "0123456789abcdeg", "0" * 17])
def test_band_keys_refuse_malformed_hashes(bad):
    with pytest.raises(ValueError):
        band_keys(bad, 4)


@pytest.mark.parametrize("bad", [-1, 64, 100])
def test_threshold_range(bad):
    with pytest.raises(ValueError):
        band_keys("0" * 16, bad)
    with pytest.raises(ValueError):
        dedupe([item("a", "0" * 16)], bad)


def test_depth_and_key_validation():
    with pytest.raises(ValueError):
        band_keys("0" * 16, 4, depth=3)
    with pytest.raises(ValueError):
        dedupe([item("a", "0" * 16)], 4, depth=0)
    for bad_key in ("x1:ff", "b9:ff", "b1s7:ff", "b1"):
        with pytest.raises(ValueError):
            bucket_edges([item("a", "0" * 16), item("b", "0" * 16)], 4, bad_key)


@pytest.mark.parametrize("depth", [1, 2])
def test_pairs_within_the_threshold_always_share_a_key(depth):
    rng = random.Random(7)
    for threshold in (1, 4, 8, 12):
        for _ in range(300):
            a = hexhash(rng.getrandbits(64))
            b = flip(a, rng.sample(range(64), threshold))  # the worst case: exactly t bits
            assert set(band_keys(a, threshold, depth)) & set(band_keys(b, threshold, depth))


# --- edges ----------------------------------------------------------------------------------------


def brute_edges(items: list[Item], threshold: int) -> list[tuple[str, str, int]]:
    return sorted(
        (min(a.key, b.key), max(a.key, b.key), hamming(a.phash, b.phash))
        for a, b in itertools.combinations(items, 2)
        if hamming(a.phash, b.phash) <= threshold
    )


def buckets_of(items: list[Item], threshold: int, depth: int = 1) -> dict[str, list[Item]]:
    buckets: dict[str, list[Item]] = {}
    for it in items:
        for key in band_keys(it.phash, threshold, depth):
            buckets.setdefault(key, []).append(it)
    return buckets


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("threshold", [0, 2, 4, 8])
def test_bucket_edges_over_all_buckets_find_every_pair_exactly_once(threshold, depth):
    items = clustered_items(random.Random(threshold), 400, threshold)
    expected = brute_edges(items, threshold)
    assert expected  # the planted clusters give pairs
    buckets = buckets_of(items, threshold, depth)
    with_keys = [
        e for key, members in buckets.items() for e in bucket_edges(members, threshold, key)
    ]
    assert sorted(with_keys) == expected  # each pair from its first shared band only
    without_keys = {e for members in buckets.values() for e in bucket_edges(members, threshold)}
    assert sorted(without_keys) == expected
    whole_bands, _ = D._all_edges(items, threshold, depth)  # what dedupe() uses
    assert sorted(whole_bands) == expected


def test_bucket_edges_of_one_group_match_brute_force_in_any_order():
    rng = random.Random(3)
    base = hexhash(rng.getrandbits(64))
    group = [item(f"k{i}", flip(base, rng.sample(range(64), rng.randint(0, 6)))) for i in range(60)]
    expected = brute_edges(group, 4)
    assert bucket_edges(group, 4) == expected
    rng.shuffle(group)
    assert bucket_edges(group, 4) == expected
    assert bucket_edges(group[:1], 4) == [] and bucket_edges([], 4) == []


def test_bucket_edges_in_blocks(monkeypatch):
    # A bucket larger than one block gives the same edges as one block would.
    group = clustered_items(random.Random(5), 300, 6)
    expected = bucket_edges(group, 6)
    monkeypatch.setattr(D, "_BLOCK_ELEMENTS", 1000)
    assert bucket_edges(group, 6) == expected


# --- resolution -------------------------------------------------------------------------------------


def test_collapse_keeps_the_best_rank():
    small, large, large2 = (
        item("b", "0" * 16, area=10),
        item("c", "0" * 16, area=99),
        item("a", "0" * 16, area=99),
    )
    keep, others = collapse([small, large, large2])
    assert keep == large2  # largest area, then key order
    assert others == {"b": "a", "c": "a"}
    with pytest.raises(ValueError):
        collapse([])


def test_resolve_chain():
    a, b, c = item("a", "0" * 16, area=3), item("b", "0" * 16, area=2), item("c", "0" * 16, area=1)
    # a~b and b~c, but a and c are further apart: b goes, c stays (its only neighbour went).
    edges = [("a", "b", 3), ("b", "c", 3)]
    assert resolve([c, b, a], edges) == {"b": "a"}
    assert resolve([a, b, c], list(reversed(edges))) == {"b": "a"}


def test_resolve_names_the_closest_kept_neighbour():
    hub = item("z", "0" * 16, area=1)
    near, far = item("y", "0" * 16, area=5), item("x", "0" * 16, area=9)
    assert resolve([hub, near, far], [("y", "z", 1), ("x", "z", 3)]) == {"z": "y"}


def test_resolve_may_name_a_kept_item_ranked_after_the_dropped_one():
    a, b, c = item("a", "0" * 16, area=3), item("b", "0" * 16, area=2), item("c", "0" * 16, area=1)
    # a stays, b goes (a is kept), c stays (b went); c is b's closest kept neighbour.
    assert resolve([a, b, c], [("a", "b", 4), ("b", "c", 1)]) == {"b": "c"}


def test_resolve_refuses_inconsistent_input():
    with pytest.raises(ValueError):
        resolve([item("a", "0" * 16)], [("a", "b", 1)])
    with pytest.raises(ValueError):
        resolve([item("a", "0" * 16), item("a", "1" * 16)], [])


# --- the one-call dedupe ------------------------------------------------------------------------


def test_exact_duplicates_and_their_follow_through():
    base = "00000000ffffffff"
    big = item("PMC1v1_f001", base, sha="a" * 64, area=1000)
    copy = item("PMC2v1_f001", flip(base, [1]), sha="b" * 64, area=500)
    copy_of_copy = item("PMC3v1_f001", flip(base, [1]), sha="b" * 64, area=500)
    other = item("PMC4v1_f001", flip(base, range(20)), sha="c" * 64)
    result = dedupe([other, copy_of_copy, copy, big], threshold=4)
    assert result == {
        "PMC1v1_f001": (KEPT, None),
        "PMC2v1_f001": (NEAR, "PMC1v1_f001"),
        # Same pixels as PMC2, which went as a near duplicate: it follows to the kept one.
        "PMC3v1_f001": (NEAR, "PMC1v1_f001"),
        "PMC4v1_f001": (KEPT, None),
    }
    exact_only = dedupe([other, copy_of_copy, copy, big], threshold=None)
    assert exact_only["PMC3v1_f001"] == (DUP, "PMC2v1_f001")
    assert exact_only["PMC2v1_f001"] == (KEPT, None)


def test_keys_must_be_unique():
    with pytest.raises(ValueError):
        dedupe([item("a", "0" * 16), item("a", "0" * 16)])


@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize(("seed", "threshold"), [(1, 4), (2, 0), (3, 8), (4, 2)])
def test_dedupe_matches_the_reference_and_keeps_the_invariants(seed, threshold, depth):
    items = clustered_items(random.Random(seed), 500, threshold)
    result = dedupe(items, threshold, depth)
    assert result == reference(items, threshold)
    check_invariants(items, result, threshold)
    statuses = {status for status, _ in result.values()}
    assert statuses == {KEPT, DUP, NEAR}


def test_dedupe_does_not_depend_on_order():
    rng = random.Random(11)
    items = clustered_items(rng, 800, 4)
    expected = dedupe(items, 4)
    for _ in range(3):
        rng.shuffle(items)
        assert dedupe(items, 4) == expected


def test_decisions_from_distributed_stages_equal_one_call():
    """The stages as a Beam job would run them (per key, in any order) give dedupe()."""
    threshold = 4
    items = clustered_items(random.Random(21), 600, threshold)
    rng = random.Random(0)
    by_sha: dict[str, list[Item]] = {}
    for it in items:
        by_sha.setdefault(it.pixel_sha256, []).append(it)
    exact_of, survivors = {}, []
    for group in by_sha.values():
        keep, others = collapse(rng.sample(group, len(group)))
        exact_of.update(others)
        survivors.append(keep)
    # Skip the optional same-phash stage: distance-0 edges give the same decisions.
    buckets = buckets_of(survivors, threshold)
    edges = [e for key, members in buckets.items() for e in bucket_edges(members, threshold, key)]
    rng.shuffle(edges)
    in_edges = {k for a, b, _ in edges for k in (a, b)}
    near_of = resolve([it for it in survivors if it.key in in_edges], edges)
    assert D.decisions(items, exact_of, {}, near_of) == dedupe(items, threshold)


def test_bucket_stats():
    items = [item(f"k{i}", hexhash(i)) for i in range(10)]  # differ in the low bits only
    _, stats = dedupe_with_stats(items, 1, depth=1)
    # Band 0 (high 32 bits) puts all ten in one bucket; band 1 gives ten singletons.
    assert stats == BucketStats(buckets=11, entries=20, max_size=10, pairs=45)
    assert stats.mean_size == pytest.approx(20 / 11)
    assert BucketStats.of_sizes([3, 1, 0]).merge(BucketStats.of_sizes([5])) == BucketStats(
        3, 9, 5, 13
    )
    assert dedupe_with_stats([], 4) == ({}, BucketStats())
    # Depth 2: 4 kinds of key; only b0s0 (high 32 bits + bits 31..16) leaves out the low
    # bits the items differ in, so it holds all ten; the other kinds hold singletons.
    _, deep = dedupe_with_stats(items, 1, depth=2)
    assert deep.entries == 40 and deep.max_size == 10


def test_real_thumbnails_are_near_duplicates_of_their_figures():
    root = shared_fixture("images", "pmc")
    items = []
    for path in sorted(root.glob("*/*.jpg")) + sorted(root.glob("*/*.gif")):
        image = process_image(path.read_bytes())
        key = f"{path.parent.name}_{path.stem}_{path.suffix[1:]}"
        items.append(
            Item(
                key, image.pixel_sha256, image.phash, priority(image.orig_width, image.orig_height)
            )
        )
    result = dedupe(items, D.DEFAULT_THRESHOLD)
    check_invariants(items, result, D.DEFAULT_THRESHOLD)
    for key, (status, duplicate_of) in result.items():
        if key.endswith("_jpg"):
            assert status == KEPT, key
        elif (root / key.split("_", 1)[0]).joinpath(key.split("_", 1)[1][:-4] + ".jpg").exists():
            assert (status, duplicate_of) == (NEAR, key[:-4] + "_jpg")


# --- decontamination -------------------------------------------------------------------------------


def test_parse_hash_list():
    lines = [
        "# evaluation images",
        "",
        "  " + "AB" * 32 + "  roco/test/001.png",
        "0123456789abcdef",
        "#0123456789abcdef is commented out",
    ]
    assert parse_hash_list(lines) == frozenset({"ab" * 32, "0123456789abcdef"})
    with pytest.raises(ValueError, match="line 2"):
        parse_hash_list(["0123456789abcdef", "not-a-hash"])
    with pytest.raises(ValueError):
        parse_hash_list(["0123456789abcde"])  # 15 digits


def test_load_hash_list(tmp_path):
    path = tmp_path / "eval_hashes.txt"
    path.write_text("c" * 64 + "\nffffffff00000000 # a chart\n", encoding="utf-8")
    assert load_hash_list(path) == frozenset({"c" * 64, "ffffffff00000000"})


def test_contamination_reason():
    listed = parse_hash_list(["c" * 64, "ffffffff00000000"])
    assert contamination_reason(item("a", "0" * 16, sha="c" * 64), listed) == D.CONTAMINATED_EXACT
    near = item("b", flip("ffffffff00000000", [0, 9, 40, 63]))
    far = item("c", flip("ffffffff00000000", [0, 9, 40, 63, 20]))
    assert contamination_reason(near, listed, 4) == D.CONTAMINATED_NEAR
    assert contamination_reason(far, listed, 4) is None
    assert contamination_reason(far, listed, 5) == D.CONTAMINATED_NEAR
    assert contamination_reason(near, listed, None) is None  # pixels only
    assert contamination_reason(near, set(listed), 4) == D.CONTAMINATED_NEAR  # any collection
    assert contamination_reason(near, frozenset(), 4) is None


def test_contamination_against_brute_force():
    rng = random.Random(99)
    listed_phashes = [hexhash(rng.getrandbits(64)) for _ in range(300)]
    listed = frozenset(listed_phashes)
    probes = [
        flip(rng.choice(listed_phashes), rng.sample(range(64), rng.randint(0, 8)))
        for _ in range(300)
    ]
    probes += [hexhash(rng.getrandbits(64)) for _ in range(100)]
    for phash in probes:
        expected = min(hamming(phash, h) for h in listed_phashes) <= 4
        assert (contamination_reason(item("k", phash), listed, 4) is not None) == expected


@pytest.mark.parametrize(("seed", "threshold"), [(5, 4), (6, 0), (7, 8), (8, None)])
def test_decide_clean_gives_what_dedupe_decides(seed, threshold):
    """decide_clean follows only the keys a stage moved: the same decisions as dedupe()'s
    map of every item, in the items' order, with the reasons decide_all records."""
    items = clustered_items(random.Random(seed), 700, threshold or 0)
    expected = [
        (key, None if status == KEPT else (status, D.reason_of(status), final))
        for key, (status, final) in dedupe(items, threshold, D.band_depth(len(items))).items()
    ]
    got = list(D.decide_clean(items, threshold))
    assert got == expected
    assert {d[0] for _, d in got if d} == ({DUP, NEAR} if threshold is not None else {DUP})


@pytest.mark.parametrize(("seed", "threshold"), [(5, 4), (6, 0), (7, 8), (8, None), (9, 4)])
def test_candidates_in_columns_decide_what_decide_clean_decides(seed, threshold):
    """decide_candidates (the columns one_place holds) drops the same items, with the same
    status, reason and duplicate_of, as decide_clean on the items: ties of priority,
    chains through all three stages, pixel hashes that are not hex digests, keys beyond
    ASCII (ordered by code point, as Python orders them)."""
    rng = random.Random(seed)
    items = clustered_items(rng, 900, threshold or 0)
    odd_texts = ["not hex", "not hex", "AB" * 32, "ab" * 32, "é" * 64, "", "ab" * 32 + "\n"]
    items += [
        item._replace(key=f"{item.key}_odd{i}", pixel_sha256=text)
        for i, (item, text) in enumerate(zip(items[:7], odd_texts, strict=True))
    ]
    items += [
        item._replace(key=f"{item.key}_{tail}")
        for item, tail in zip(items[7:11], ["é", "z", "\u4e2d", "\U0001f600"], strict=True)
    ]
    rng.shuffle(items)
    expected = {key: d for key, d in D.decide_clean(items, threshold) if d is not None}
    candidates = D.Candidates()
    for one in items:
        candidates.add(one)
    assert len(candidates) == len(items)
    assert D.decide_candidates(candidates, threshold) == expected
    kinds = {d[0] for d in expected.values()}
    assert kinds == ({DUP, NEAR} if threshold is not None else {DUP})


def test_candidates_refuse_what_columns_cannot_hold():
    candidates = D.Candidates()
    with pytest.raises(ValueError, match="one-number priority"):
        candidates.add(item("a", "0" * 16)._replace(priority=(1, 2)))
    with pytest.raises(ValueError, match="NUL"):
        candidates.add(item("a\0", "0" * 16))
    with pytest.raises(ValueError, match="phash"):
        candidates.add(item("a", "xyz"))
    candidates.add(item("a", "0" * 16))
    candidates.add(item("a", "1" * 16))
    with pytest.raises(ValueError, match="unique"):
        D.decide_candidates(candidates)
    with pytest.raises(ValueError, match="threshold"):
        D.decide_candidates(D.Candidates(), 64)
    assert D.decide_candidates(D.Candidates()) == {}
