"""pmc_pipeline.split: stable, by article, proportional, validated."""

from __future__ import annotations

import hashlib
import math
from collections import Counter

import pytest

from pmc_pipeline.split import DEFAULT_FRACTIONS, assign_split, parse_fractions, validate_fractions

PMCIDS = [f"PMC{n}" for n in range(1_000_000, 1_100_000)]


def test_known_assignments_never_change():
    """Pinned: a change here would move published articles between splits."""
    assert [assign_split(p) for p in ("PMC1000", "PMC1013", "PMC1081")] == ["train", "val", "test"]
    halves = {"a": 0.5, "b": 0.5}
    assert [assign_split(f"PMC{n}", halves, "salt") for n in range(1000, 1004)] == list("baab")


def test_assignment_follows_the_documented_rule():
    for pmcid in PMCIDS[:2000]:
        point = int.from_bytes(hashlib.sha256(f"\n{pmcid}".encode()).digest()[:8], "big")
        u = point / 2**64  # names in sorted order: test [0, .01), train [.01, .99), val
        expected = "test" if u < 0.01 else "train" if u < 0.99 else "val"
        assert assign_split(pmcid) == expected, pmcid


def test_versions_and_spellings_of_one_article_share_a_split():
    for salt in ("", "v2"):
        spellings = {"PMC10009416", "PMC10009416.1", "PMC10009416.7", "10009416", "pmc10009416"}
        assert len({assign_split(s, salt=salt) for s in spellings}) == 1


def test_proportions():
    counts = Counter(assign_split(p) for p in PMCIDS)
    n = len(PMCIDS)
    for name, fraction in DEFAULT_FRACTIONS.items():
        sd = math.sqrt(n * fraction * (1 - fraction))
        assert abs(counts[name] - n * fraction) < 5 * sd, (name, counts)


def test_uneven_fractions_and_zero_share():
    fractions = {"a": 0.5, "b": 0.0, "c": 0.3, "d": 0.2}
    counts = Counter(assign_split(p, fractions) for p in PMCIDS[:20_000])
    assert counts["b"] == 0
    assert abs(counts["a"] / 20_000 - 0.5) < 0.02 and abs(counts["d"] / 20_000 - 0.2) < 0.02
    assert all(assign_split(p, {"only": 1.0}) == "only" for p in PMCIDS[:100])


def test_order_of_fractions_does_not_matter():
    forward = {"train": 0.8, "val": 0.1, "test": 0.1}
    backward = dict(reversed(list(forward.items())))
    assert all(assign_split(p, forward) == assign_split(p, backward) for p in PMCIDS[:5000])


def test_salt_reshuffles():
    fractions = {"a": 0.5, "b": 0.5}
    same = sum(assign_split(p, fractions) == assign_split(p, fractions, "x") for p in PMCIDS[:4000])
    assert 1700 < same < 2300  # independent halves agree about half the time


def test_growing_a_split_only_moves_articles_into_it():
    before = {p: assign_split(p, {"test": 0.01, "train": 0.99}) for p in PMCIDS[:20_000]}
    after = {p: assign_split(p, {"test": 0.02, "train": 0.98}) for p in PMCIDS[:20_000]}
    moved = [p for p in before if before[p] != after[p]]
    assert moved and all(before[p] == "train" and after[p] == "test" for p in moved)


@pytest.mark.parametrize(
    "fractions",
    [
        {},
        {"train": 0.9},
        {"train": 0.9, "val": 0.2},
        {"train": 1.1, "val": -0.1},
        {"train": float("nan"), "val": 1.0},
        {"train/x": 1.0},
        {"": 1.0},
        {"train": "1"},
        {"train": True},
    ],
)
def test_invalid_fractions(fractions):
    with pytest.raises(ValueError):
        validate_fractions(fractions)
    with pytest.raises(ValueError):
        assign_split("PMC1", fractions)


def test_malformed_pmcid():
    with pytest.raises(ValueError):
        assign_split("not-a-pmcid")


def test_parse_fractions():
    assert parse_fractions("train=0.98, val=0.01,test=0.01") == {
        "train": 0.98,
        "val": 0.01,
        "test": 0.01,
    }
    for bad in ("train", "train=x,val=1", "train=0.5,train=0.5", "=1", "train=0.5"):
        with pytest.raises(ValueError):
            parse_fractions(bad)


def test_a_valid_split_cached_first_does_not_let_an_equal_invalid_one_pass():
    """{'train': True} compares and hashes equal to {'train': 1.0}."""
    assert assign_split("PMC1", {"train": 1.0}) == "train"
    with pytest.raises(ValueError):
        assign_split("PMC1", {"train": True})
