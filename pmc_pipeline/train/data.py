"""Batches for training and evaluation, decoded and augmented in DataLoader workers.

Training reads one endless, resumable stream per (rank, worker). Epoch after epoch, each
stream reads the units of the train split that the epoch plan (plan.py) deals it, shuffles
the samples of each unit with a buffer, and yields exactly `plan.batches_per_epoch`
micro-batches; the rest of its share is dropped, so no batch spans two epochs and no pair
appears twice in one optimizer step. A stream's place is `StreamPosition(epoch, batches,
unit, offset)`; augmentation is seeded per sample from that place. A run that resumes at the
saved positions therefore sees exactly the batches, crops and order it would have seen
without the stop, at the cost of re-reading (not decoding) at most one shard per stream.

Corrupt samples (unreadable shard, oversize member, missing or undecodable image, missing or
empty caption) are skipped and counted by reason; every batch carries the counts of the
samples skipped since the previous batch of its stream.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import webdataset as wds
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from pmc_pipeline.outputs import Output
from pmc_pipeline.train.decode import LoaderTransform, SkipSample, sample_caption
from pmc_pipeline.train.plan import EpochPlan, Unit, stable_seed
from pmc_pipeline.train.reader import read_shard
from pmc_pipeline.train.tokenizer import load_tokenizer

log = logging.getLogger(__name__)

# An evaluation pass that meets this many corrupt samples in a row has nothing left to read.
MAX_CONSECUTIVE_SKIPS = 100_000
# Counted when a stream short of usable samples re-reads its share and meets a pair that
# already sits in the batch it is filling (see TrainStreams).
REPEATED_IN_BATCH = "repeated_in_batch"


@dataclass(frozen=True)
class StreamPosition:
    """Where a training stream stands in epoch `epoch`: `batches` micro-batches of it done,
    and `offset` samples read of the `unit`-th unit it reads in that epoch."""

    epoch: int = 0
    batches: int = 0
    unit: int = 0
    offset: int = 0

    def astuple(self) -> tuple[int, int, int, int]:
        return (self.epoch, self.batches, self.unit, self.offset)


@dataclass
class Batch:
    """Images and tokenized captions of one (micro-)batch, with where they came from."""

    images: torch.Tensor
    texts: torch.Tensor
    stream: int = 0  # the training stream that produced it
    position: StreamPosition = field(default_factory=StreamPosition)
    skipped: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def pin_memory(self) -> Batch:  # called by DataLoader(pin_memory=True)
        self.images, self.texts = self.images.pin_memory(), self.texts.pin_memory()
        return self


class DataState:
    """What one rank has consumed: each stream's position, batches, skipped samples; what a
    checkpoint saves so the streams continue where they stood."""

    def __init__(self, positions=None, batches: int = 0, skipped=None):
        self.positions: dict[int, StreamPosition] = dict(positions or {})
        self.batches = batches
        self.skipped: Counter = Counter(skipped or {})

    def consume(self, batch: Batch) -> None:
        self.positions[batch.stream] = batch.position
        self.batches += 1
        self.skipped.update(batch.skipped)

    def to_dict(self) -> dict:
        return {
            "positions": [[s, *p.astuple()] for s, p in sorted(self.positions.items())],
            "batches": self.batches,
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_dict(cls, saved: dict) -> DataState:
        positions = {s: StreamPosition(*place) for s, *place in saved["positions"]}
        return cls(positions, saved["batches"], saved["skipped"])


def _make_batch(
    pending: list,
    pixels: LoaderTransform,
    tokenizer,
    skipped: Counter,
    stream: int = 0,
    position=None,
) -> Batch:
    """A Batch of (key, transformed image, caption) items; `skipped` is the stream's live
    counter of skipped samples, reset here."""
    batch = Batch(
        images=pixels.stack([image for _, image, _ in pending]),
        texts=tokenizer([caption for _, _, caption in pending]),
        stream=stream,
        position=position or StreamPosition(),
        skipped=dict(skipped),
        keys=[key for key, _, _ in pending],
    )
    skipped.clear()
    return batch


def _decoded(samples, pixels: LoaderTransform, skipped: Counter):
    """Raw samples -> (key, transformed image, caption), counting skips (evaluation)."""
    consecutive = 0
    for sample in samples:
        try:
            caption = sample_caption(sample)
            image = pixels.image(sample["jpg"])
        except SkipSample as skip:
            skipped[skip.reason] += 1
            consecutive += 1
            if consecutive > MAX_CONSECUTIVE_SKIPS:
                raise RuntimeError(
                    f"{consecutive} corrupt samples in a row: {dict(skipped)}"
                ) from None
            continue
        consecutive = 0
        yield sample["__key__"], image, caption


def _seeded(transform: Callable, data, seed: int):
    """transform(data) with torch's CPU RNG seeded for this call and restored after, so the
    crop depends on the sample only (torchvision's random transforms draw from that RNG)."""
    generator = torch.default_generator
    state = generator.get_state()
    generator.manual_seed(seed)
    try:
        return transform(data)
    finally:
        generator.set_state(state)


class TrainStreams(IterableDataset):
    """Endless training micro-batches of one rank; each DataLoader worker runs one stream.

    Streams are numbered globally, rank after rank (rank r owns streams r*n .. r*n+n-1), and
    a stream's data depends only on the plan (its seed) and its number. So 2 ranks of one
    stream each read what 1 process with 2 streams reads, batch for batch.

    `start` maps a stream to where it resumes; `rotation` shifts worker ids onto streams so
    that, after a resume, the DataLoader's round-robin over workers continues with the
    stream that was next (rotation = batches consumed so far, modulo streams)."""

    def __init__(
        self,
        data: str,
        plan: EpochPlan,
        *,
        transform: Callable,
        tokenizer_dir: str,
        context_length: int,
        rank: int,
        num_streams: int,
        shuffle_buffer: int,
        start: dict[int, StreamPosition] | None = None,
        rotation: int = 0,
        min_side: int | None = None,
    ):
        if not plan.units:
            raise ValueError(f"no training samples under {data}/webdataset/train")
        if plan.batches_per_epoch < 1:
            raise ValueError("the epoch plan gives the streams no batch to fill")
        if (rank + 1) * num_streams > plan.streams:
            raise ValueError(f"rank {rank} x {num_streams} streams: the plan has {plan.streams}")
        self.data, self.plan = data, plan
        self.pixels = LoaderTransform(transform, min_side)
        self.batch_size, self.seed = plan.micro_batch, plan.seed
        self.tokenizer_dir, self.context_length = tokenizer_dir, context_length
        self.rank, self.num_streams = rank, num_streams
        self.shuffle_buffer = shuffle_buffer
        self.start = dict(start or {})
        self.rotation = rotation

    def _stream_id(self) -> int:
        info = get_worker_info()
        workers = info.num_workers if info else 1
        if workers != self.num_streams:
            raise RuntimeError(f"{workers} loader workers for {self.num_streams} streams")
        local = ((info.id if info else 0) + self.rotation) % workers
        return self.rank * self.num_streams + local

    def unit_samples(self, output: Output, stream: int, epoch: int, index: int, unit: Unit):
        """The raw samples of a unit, shuffled as the `index`-th read of `stream`'s epoch.
        Markers of unreadable shards pass whatever the part."""

        def own(samples):
            for i, sample in enumerate(samples):
                if i % unit.parts == unit.part or sample["__key__"] is None:
                    yield sample

        rng = random.Random(stable_seed("shuffle", self.seed, stream, epoch, index))
        shuffle = wds.shuffle(self.shuffle_buffer, initial=self.shuffle_buffer, rng=rng)
        return shuffle(own(read_shard(output, unit.shard)))

    def epoch_batches(self, stream: int, start: StreamPosition, tokenizer, skipped: Counter):
        """The stream's micro-batches of epoch start.epoch, from `start` on.

        Normally one pass over the stream's share fills them. If corrupt samples leave it
        short, the stream reads its share again (other shuffles): a pair then returns in a
        later batch of the epoch, never in the batch that holds it already, nor in another
        stream's; a pass that adds nothing means the share cannot fill a batch (an error)."""
        output, epoch = Output(self.data), start.epoch
        units = self.plan.deal(epoch)[stream]
        done, index, skip_to = start.batches, start.unit, start.offset
        pending: list = []
        in_batch: set[str] = set()
        complete, accepted = index % len(units) == 0 and skip_to == 0, 0
        while True:
            samples = self.unit_samples(output, stream, epoch, index, units[index % len(units)])
            for offset, sample in enumerate(samples, start=1):
                if offset <= skip_to:
                    continue
                key = sample["__key__"]
                if key in in_batch:
                    skipped[REPEATED_IN_BATCH] += 1
                    continue
                seed = stable_seed("augment", self.seed, stream, epoch, index, offset)
                try:
                    caption = sample_caption(sample)
                    image = _seeded(self.pixels.image, sample["jpg"], seed)
                except SkipSample as skip:
                    skipped[skip.reason] += 1
                    continue
                pending.append((key, image, caption))
                in_batch.add(key)
                accepted += 1
                if len(pending) == self.batch_size:
                    done += 1
                    position = StreamPosition(epoch, done, index, offset)
                    yield _make_batch(pending, self.pixels, tokenizer, skipped, stream, position)
                    if done == self.plan.batches_per_epoch:
                        return  # the rest of the share waits for a later epoch
                    pending, in_batch = [], set()
            skip_to, index = 0, index + 1
            if index % len(units) == 0:  # a pass over the share ended
                if complete and accepted == 0:
                    raise RuntimeError(
                        f"stream {stream} cannot fill a batch of {self.batch_size} distinct "
                        f"pairs from its share of epoch {epoch}: {dict(skipped)} skipped"
                    )
                if index == len(units):
                    log.warning(
                        "stream %d: too many corrupt samples in its share of epoch %d (%s): "
                        "reading it again",
                        stream,
                        epoch,
                        dict(skipped),
                    )
                complete, accepted = True, 0

    def __iter__(self) -> Iterator[Batch]:
        return self.batches(self._stream_id())

    def batches(self, stream: int) -> Iterator[Batch]:
        """The endless micro-batches of global stream `stream`, from its start position."""
        tokenizer = load_tokenizer(self.tokenizer_dir, self.context_length)
        skipped: Counter = Counter()
        start = self.start.get(stream, StreamPosition())
        if start.batches >= self.plan.batches_per_epoch:  # saved at the end of an epoch
            start = StreamPosition(start.epoch + 1)
        for epoch in itertools.count(start.epoch):
            place = start if epoch == start.epoch else StreamPosition(epoch)
            yield from self.epoch_batches(stream, place, tokenizer, skipped)


class SplitSamples(IterableDataset):
    """Every sample of a split exactly once, in batches (evaluation); shards are divided
    among the DataLoader workers."""

    def __init__(
        self,
        data: str,
        shards: list[str],
        *,
        transform: Callable,
        tokenizer,
        batch_size: int,
        min_side: int | None = None,
    ):
        self.data, self.shards = data, list(shards)
        self.pixels = LoaderTransform(transform, min_side)
        self.tokenizer, self.batch_size = tokenizer, batch_size

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        mine = self.shards[info.id :: info.num_workers] if info else self.shards
        output = Output(self.data)
        samples = (s for relpath in mine for s in read_shard(output, relpath))
        skipped: Counter = Counter()
        pending: list = []
        for item in _decoded(samples, self.pixels, skipped):
            pending.append(item)
            if len(pending) == self.batch_size:
                yield _make_batch(pending, self.pixels, self.tokenizer, skipped)
                pending = []
        if pending:
            yield _make_batch(pending, self.pixels, self.tokenizer, skipped)
        if skipped:  # skips after the last full batch still count
            yield Batch(torch.empty(0), torch.empty(0, dtype=torch.long), skipped=dict(skipped))


def make_loader(dataset: IterableDataset, workers: int, seed: int, pin_memory: bool):
    """A DataLoader over a dataset that yields whole Batches."""
    # HF tokenizers must not start their own thread pool before the workers fork.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return DataLoader(
        dataset,
        batch_size=None,
        num_workers=workers,
        pin_memory=pin_memory,
        prefetch_factor=2 if workers else None,
        # A private generator: creating the iterator must not consume the global RNG, which
        # a resumed run restores exactly.
        generator=torch.Generator().manual_seed(seed),
    )
