"""How each epoch of the train split is dealt out to the loader streams, so that no
contrastive batch ever holds the same pair twice.

A run has `streams` loader streams in all (ranks x loader workers); each produces whole
micro-batches. Every epoch, the split's *units* (a shard, or a strided part of one when the
split has too few shards to go round) are shuffled and dealt to the streams, largest first
to the least loaded (LPT scheduling), so each pair sits in exactly one stream per epoch.
Every stream then yields the same number of micro-batches per epoch, `batches_per_epoch`,
as many as the least loaded stream can fill, rounded down so that an optimizer step never
takes micro-batches from two epochs; what is left of a stream's share that epoch (a
different part each epoch) is dropped, never carried into the next one.

So the micro-batches of one optimizer step, on every rank, come from the same epoch and
from disjoint units: they hold distinct pairs. (A stream whose share holds so many corrupt
samples that it runs short re-reads its own units: docs/training.md, Data, says what then
may repeat.)

Pure Python, no torch: the trainer checks a plan before it builds anything.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import random
from dataclasses import dataclass
from functools import cached_property


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from parts; stable across processes and Python versions."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass(frozen=True)
class Unit:
    """Samples `part`, `part + parts`, `part + 2 parts`, ... of a shard (all when parts is 1)."""

    shard: str
    part: int
    parts: int
    size: int


def split_units(shard_sizes: dict[str, int], streams: int) -> list[Unit]:
    """The split's units. Whole shards when there are at least two per stream (or one
    stream); else each shard is cut into strided parts of about 1/(2 x streams) of the split,
    so that dealing them out leaves every stream a fair share (a part costs a read of its
    whole shard, but only its own samples are decoded)."""
    total = sum(shard_sizes.values())
    units = []
    for shard, size in sorted(shard_sizes.items()):
        if size <= 0:
            continue
        whole = streams == 1 or len(shard_sizes) >= 2 * streams
        parts = 1 if whole else min(size, math.ceil(size * 2 * streams / total))
        for part in range(parts):
            units.append(Unit(shard, part, parts, len(range(part, size, parts))))
    return units


def step_multiple(accum_freq: int, workers: int) -> int:
    """Micro-batches per stream and epoch must be a multiple of this, so that every epoch
    ends at an optimizer step: a rank's loader takes one micro-batch from each of its
    `workers` streams in turn, and a step takes `accum_freq` of them."""
    return accum_freq // math.gcd(accum_freq, max(1, workers))


@dataclass(frozen=True)
class EpochPlan:
    shard_sizes: tuple[tuple[str, int], ...]  # (shard path relative to OUTPUT, samples)
    streams: int
    micro_batch: int
    multiple: int = 1  # step_multiple(accum_freq, workers)
    seed: int = 0

    @classmethod
    def build(
        cls,
        shard_sizes: dict[str, int],
        streams: int,
        micro_batch: int,
        multiple: int = 1,
        seed: int = 0,
    ) -> EpochPlan:
        return cls(tuple(sorted(shard_sizes.items())), streams, micro_batch, multiple, seed)

    @property
    def pairs(self) -> int:
        return sum(size for _, size in self.shard_sizes)

    @cached_property
    def units(self) -> list[Unit]:
        return split_units(dict(self.shard_sizes), self.streams)

    def deal(self, epoch: int) -> list[list[Unit]]:
        """Each stream's units in epoch `epoch`, in reading order."""
        rng = random.Random(stable_seed("epoch", self.seed, epoch))
        units = list(self.units)
        rng.shuffle(units)
        units.sort(key=lambda unit: -unit.size)  # stable: equal sizes keep the random order
        shares: list[list[Unit]] = [[] for _ in range(self.streams)]
        loads = [(0, stream) for stream in range(self.streams)]
        for unit in units:  # largest first, to the least loaded stream
            load, stream = heapq.heappop(loads)
            shares[stream].append(unit)
            heapq.heappush(loads, (load + unit.size, stream))
        rng.shuffle(shares)  # which stream gets which share changes from epoch to epoch
        for share in shares:
            rng.shuffle(share)
        return shares

    @cached_property
    def smallest_share(self) -> int:
        """Pairs in the smallest stream share of an epoch. Dealing depends on the sorted unit
        sizes only, so this is the same in every epoch."""
        return min(sum(unit.size for unit in share) for share in self.deal(0))

    @cached_property
    def batches_per_epoch(self) -> int:
        """Micro-batches each stream yields per epoch (0: the split cannot fill one)."""
        batches = self.smallest_share // self.micro_batch
        return batches - batches % self.multiple

    @property
    def pairs_per_epoch(self) -> int:
        return self.streams * self.batches_per_epoch * self.micro_batch

    def fingerprint(self) -> str:
        """Identifies what a saved stream position means: same fingerprint, same epochs."""
        fields = [self.shard_sizes, self.streams, self.micro_batch, self.multiple]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]
