"""Deterministic train/val/test assignment by article.

An article's split is a function of its PMCID alone (every version of an article, and so
every figure of it, lands in the same split), of the fractions and of an optional salt:

    u = first 8 bytes of sha256(salt + "\\n" + "PMC<digits>"), big-endian, as an integer
    the split is the first name, in sorted name order, whose cumulative fraction times
    2**64 exceeds u.

sha256 rather than Python's hash(), which is salted per process; integer boundaries
rather than float comparisons, so every machine, runner and worker agrees. Sorting the
names makes the result independent of the order the fractions were written in.
Changing the salt reshuffles every article; changing a fraction moves only the articles
near the boundaries that moved.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from pmc_pipeline.model import normalize_pmcid

DEFAULT_FRACTIONS: Mapping[str, float] = MappingProxyType(
    {"train": 0.98, "val": 0.01, "test": 0.01}
)

# Split names become folder and file names (webdataset/<split>/<split>-000000.tar).
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_SCALE = 1 << 64
_SUM_TOLERANCE = 1e-6


def assign_split(
    pmcid: str, fractions: Mapping[str, float] = DEFAULT_FRACTIONS, salt: str = ""
) -> str:
    """The split of an article: 'PMC10009416', 'PMC10009416.1' and '10009416' all give the
    same answer. Raises ValueError for a malformed PMCID or invalid fractions."""
    canonical, _version = normalize_pmcid(pmcid)
    digest = hashlib.sha256(f"{salt}\n{canonical}".encode()).digest()
    point = int.from_bytes(digest[:8], "big")
    # The value's type is part of the cache key: True == 1.0 hash alike, and a valid
    # {'train': 1.0} cached first must not let {'train': True} pass unchecked.
    key = tuple(sorted((name, value, type(value)) for name, value in fractions.items()))
    for name, upper in _boundaries(key):
        if point < upper:
            return name
    raise AssertionError("unreachable: the last boundary is 2**64")


@lru_cache(maxsize=32)
def _boundaries(key: tuple[tuple[str, float, type], ...]) -> tuple[tuple[str, int], ...]:
    """(name, exclusive upper bound in [0, 2**64]) per split with a non-zero fraction."""
    items = [(name, value) for name, value, _ in key]
    validate_fractions(dict(items))
    total = math.fsum(value for _, value in items)
    bounds, cumulative = [], 0.0
    for name, value in items:
        cumulative += value
        if value > 0:
            bounds.append((name, round(cumulative / total * _SCALE)))
    # The last split with a share ends exactly at 2**64, whatever the rounding above.
    bounds[-1] = (bounds[-1][0], _SCALE)
    return tuple(bounds)


def validate_fractions(fractions: Mapping[str, float]) -> None:
    """Raise ValueError unless the fractions are named like files, are finite, non-negative
    and sum to 1 (within 1e-6)."""
    if not fractions:
        raise ValueError("no split fractions given")
    for name, value in fractions.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"split name {name!r} must match {_NAME.pattern}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"fraction of {name!r} is not a number: {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"fraction of {name!r} must be finite and >= 0, got {value}")
    total = math.fsum(fractions.values())
    if abs(total - 1.0) > _SUM_TOLERANCE:
        raise ValueError(f"split fractions must sum to 1, got {total}")


def parse_fractions(text: str) -> dict[str, float]:
    """'train=0.98,val=0.01,test=0.01' -> {'train': 0.98, 'val': 0.01, 'test': 0.01},
    validated."""
    fractions: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"expected name=fraction, got {part.strip()!r} in {text!r}")
        if name in fractions:
            raise ValueError(f"split {name!r} given twice in {text!r}")
        try:
            fractions[name] = float(value)
        except ValueError:
            raise ValueError(f"fraction of {name!r} is not a number: {value.strip()!r}") from None
    validate_fractions(fractions)
    return fractions
