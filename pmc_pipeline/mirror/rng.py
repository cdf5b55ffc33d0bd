"""Deterministic randomness for the mirror generator.

Every random choice is drawn from a generator seeded by the mirror seed plus a path that
names what is being drawn ('article', 17) or ('figure', 17, 3). Nothing depends on the
order in which articles are generated, on Python's hash randomisation or on the wall
clock, so the same seed gives the same bytes with one worker or many.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def _digest(seed: int, parts: Sequence[object]) -> bytes:
    # repr() of ints and strs is stable across runs and platforms, unlike hash().
    text = "/".join([repr(seed), *(repr(p) for p in parts)])
    return hashlib.sha256(text.encode("utf-8")).digest()


def derive_int(seed: int, *parts: object, bits: int = 63) -> int:
    """A stable non-negative integer of `bits` bits derived from the seed and a path."""
    return int.from_bytes(_digest(seed, parts)[:8], "big") >> (64 - bits)


def rng_for(seed: int, *parts: object) -> random.Random:
    """A `random.Random` of its own for one named draw."""
    return random.Random(derive_int(seed, *parts))


def np_rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A numpy Generator of its own for one named draw (bulk bytes, textures)."""
    return np.random.default_rng(derive_int(seed, *parts))


def derive_uuid(seed: int, *parts: object) -> str:
    """A stable version-4 style UUID string (S3 Inventory names its data files by UUID)."""
    return str(uuid.UUID(bytes=_digest(seed, parts)[:16], version=4))


def weighted(rng: random.Random, table: Sequence[tuple[T, float]]) -> T:
    """One value of a (value, weight) table."""
    values = [v for v, _ in table]
    weights = [w for _, w in table]
    return rng.choices(values, weights=weights, k=1)[0]


def chance(rng: random.Random, probability: float) -> bool:
    return rng.random() < probability
