"""Dedupe items for the tests: 64-bit phashes in hex, bits flipped, and random items with
planted clusters of exact and near duplicates."""

from __future__ import annotations

import random

from pmc_pipeline.dedupe import Item, priority


def hexhash(value: int) -> str:
    return f"{value:016x}"


def flip(phash: str, bits: list[int]) -> str:
    value = int(phash, 16)
    for bit in bits:
        value ^= 1 << bit
    return hexhash(value)


def clustered_items(rng: random.Random, n: int, threshold: int) -> list[Item]:
    """Random hashes with planted clusters: exact copies (same pixels, same phash), copies
    with a few bits flipped, and chains whose ends are further apart than the threshold."""
    items: list[Item] = []
    while len(items) < n:
        base = Item(
            f"PMC{rng.randrange(10**6)}v1_f{len(items):03d}",
            f"{rng.getrandbits(256):064x}",
            hexhash(rng.getrandbits(64)),
            priority(rng.choice([100, 200, 300]), 100),
        )
        items.append(base)
        for _ in range(rng.choice([0, 0, 1, 3, 6])):
            parent = rng.choice(items[-3:])
            if rng.random() < 0.3:
                sha, phash = parent.pixel_sha256, parent.phash
            else:
                sha = f"{rng.getrandbits(256):064x}"
                phash = flip(parent.phash, rng.sample(range(64), rng.randint(0, threshold + 1)))
            items.append(
                Item(f"{base.key}_{len(items)}", sha, phash, priority(rng.choice([100, 200]), 100))
            )
    return items[:n]
