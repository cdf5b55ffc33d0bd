"""Dedupe cost as the number of items grows: time, LSH bucket sizes and pairs compared, for
synthetic perceptual hashes with planted near-duplicate clusters; and, at small n, a naive
all-pairs comparison (numpy, n x n) that checks the banded result and shows the quadratic
cost banding avoids.

Two hash distributions: uniform (the best case for banding) and skewed (hashes drawn around
2,000 centres, as real figures cluster: white-background charts, blots...).

    python -m bench dedupe [--max-n=N] [--threshold=T]    (N up to 1,000,000; default 300,000)
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bench.common import machine, table, write_section
from pmc_pipeline.dedupe import DEFAULT_THRESHOLD, Item, dedupe_with_stats, priority, rank
from pmc_pipeline.model import FigureStatus

SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)


def synthetic_items(n: int, threshold: int, skewed: bool, seed: int = 1) -> list[Item]:
    """n items: 90% singletons, 10% in planted clusters of 2-6 near or exact copies."""
    rng = np.random.default_rng(seed)
    if skewed:  # around 2,000 centres, each bit flipped with probability 10/64
        centres = _random_masks(rng, 2000, 0.5)
        values = centres[rng.integers(0, len(centres), n)] ^ _random_masks(rng, n, 10 / 64)
    else:
        values = _random_masks(rng, n, 0.5)
    shas = [f"{i:064x}" for i in range(n)]
    start = int(n * 0.9)
    i = start
    while i < n:  # clusters: copies of item i with 0..threshold+2 bits flipped
        size = int(rng.integers(2, 7))
        for j in range(i + 1, min(i + size, n)):
            if rng.random() < 0.3:
                values[j], shas[j] = values[i], shas[i]  # the same pixels
            else:
                flips = rng.choice(64, size=int(rng.integers(0, threshold + 3)), replace=False)
                values[j] = values[i] ^ np.uint64(sum(1 << int(bit) for bit in flips))
        i += size
    areas = rng.integers(1, 20, n)
    return [
        Item(
            f"PMC{k:08d}v1_f001",
            shas[k],
            f"{int(values[k]):016x}",
            priority(int(areas[k]) * 100, 100),
        )
        for k in range(n)
    ]


def _random_masks(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """n random 64-bit values, each bit set with probability p."""
    bits = rng.random((n, 64)) < p
    weights = np.uint64(1) << np.arange(64, dtype=np.uint64)
    return (bits * weights).sum(axis=1, dtype=np.uint64)


def naive(items: list[Item], threshold: int) -> dict[str, tuple[str, str | None]]:
    """The same decisions from an all-pairs distance matrix: exact groups, then greedy in
    rank order, then each dropped one names the closest kept item."""
    canonical: dict[str, Item] = {}
    for item in sorted(items, key=rank):
        canonical.setdefault(item.pixel_sha256, item)
    heads = sorted(canonical.values(), key=rank)
    values = np.array([int(item.phash, 16) for item in heads], dtype=np.uint64)
    distance = np.empty((len(values), len(values)), dtype=np.uint8)  # n x n, 1 byte each
    for start in range(0, len(values), 1000):
        distance[start : start + 1000] = np.bitwise_count(
            values[start : start + 1000, None] ^ values
        )
    close = distance <= threshold
    kept = np.zeros(len(heads), dtype=bool)
    for i in range(len(heads)):
        kept[i] = not (close[i] & kept).any()
    near_of = {}
    for i in np.flatnonzero(~kept):
        candidates = np.flatnonzero(close[i] & kept)
        best = min(candidates, key=lambda j: (int(distance[i, j]), rank(heads[j])))
        near_of[heads[i].key] = heads[best].key
    out = {}
    for item in items:
        head = canonical[item.pixel_sha256].key
        final = near_of.get(head, head)
        if final == item.key:
            out[item.key] = (FigureStatus.KEPT, None)
        elif head == final:
            out[item.key] = (FigureStatus.DUPLICATE, final)
        else:
            out[item.key] = (FigureStatus.NEAR_DUPLICATE, final)
    return out


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench dedupe")
    parser.add_argument("--max-n", type=int, default=300_000)
    parser.add_argument("--threshold", type=int, default=DEFAULT_THRESHOLD)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    t = args.threshold
    command = " ".join(["python -m bench dedupe", *argv])
    dedupe_with_stats(synthetic_items(1000, t, False), t)  # warm-up

    rows = []
    for skewed in (False, True):
        for depth in (1, 2):
            rows.extend(scaling_rows(skewed, depth, t, args.max_n))

    checks = []
    for n in (2_000, 5_000, 10_000):
        for skewed in (False, True):
            items = synthetic_items(n, t, skewed, seed=2)
            brute, t_brute = timed(lambda items=items: naive(items, t))
            row = [
                "skewed" if skewed else "uniform",
                f"{n:,}",
                f"{n * (n - 1) // 2:,}",
                f"{t_brute:.2f}",
            ]
            for depth in (1, 2):
                banded, t_banded = timed(
                    lambda items=items, d=depth: dedupe_with_stats(items, t, d)[0]
                )
                row += [f"{t_banded:.2f}", "identical" if banded == brute else "DIFFERENT"]
            checks.append(row)
            print(checks[-1], flush=True)

    markdown = "\n".join(
        [
            "## Dedupe (exact + LSH near-duplicate)",
            "",
            f"`{command}` — `dedupe.dedupe_with_stats` at threshold {t} on synthetic 64-bit",
            "phashes: 10% of items in planted clusters of 2-6 exact or near copies. *uniform*:",
            "random hashes; *skewed*: hashes about 10 bits (binomial) from one of 2,000 centres.",
            f"Depth 1: {t + 1} keys per hash (bands of ~{64 / (t + 1):.0f} bits, what `band_keys`",
            f"gives by default); depth 2: {(t + 1) ** 2} keys (each band plus a sub-band of the",
            "other bits), the default of `dedupe()`. Best of 3 up to 300k items, one run above.",
            f"One process. Machine: {machine()}, load average {load:.1f} at the start",
            "(the cores are shared: absolute times vary from run to run).",
            "",
            table(
                [
                    "hashes",
                    "depth",
                    "items",
                    "seconds",
                    "µs / item",
                    "time growth / n growth",
                    "max bucket",
                    "mean bucket",
                    "pairs compared",
                    "dropped",
                ],
                rows,
            ),
            "",
            "The cost has a part linear in n (parsing hashes, sorting, resolving) and a part",
            "proportional to the pairs compared. At depth 1 the expected bucket size is",
            "n / 2^(bits per band), so the pairs grow as n^2 and the growth ratio (time growth",
            "divided by n growth, 1.00 = linear) rises once they dominate. At depth 2 buckets",
            "stay near size 1 and the pairs grow with n: the time grows near-linearly, for",
            f"{t + 1} times more keys per hash (in a Beam job: {t + 1} times the shuffle of the",
            "near stage). Both find exactly the same pairs.",
            "",
            "Against a naive all-pairs comparison (numpy n x n distance matrix, then the same",
            "greedy rule), which must give identical decisions:",
            "",
            table(
                [
                    "hashes",
                    "items",
                    "pairs (all)",
                    "all-pairs s",
                    "depth 1 s",
                    "depth 1",
                    "depth 2 s",
                    "depth 2",
                ],
                checks,
            ),
        ]
    )
    print(markdown)
    write_section("dedupe", markdown)


def scaling_rows(skewed: bool, depth: int, t: int, max_n: int) -> list[list[object]]:
    rows, base = [], None
    for n in (s for s in SIZES if s <= max_n):
        items = synthetic_items(n, t, skewed)
        repeat = 3 if n <= 300_000 else 1
        seconds = min(
            timed(lambda items=items: dedupe_with_stats(items, t, depth))[1] for _ in range(repeat)
        )
        result, stats = dedupe_with_stats(items, t, depth)
        dropped = sum(1 for status, _ in result.values() if status != FigureStatus.KEPT)
        base = base or (n, seconds)
        rows.append(
            [
                "skewed" if skewed else "uniform",
                depth,
                f"{n:,}",
                f"{seconds:.2f}",
                f"{seconds / n * 1e6:.1f}",
                f"{(seconds / base[1]) / (n / base[0]):.2f}",
                stats.max_size,
                f"{stats.mean_size:.2f}",
                f"{stats.pairs:,}",
                f"{dropped:,}",
            ]
        )
        print(rows[-1], flush=True)
    return rows
