"""Batches for training and evaluation, decoded and augmented in DataLoader workers.

Training reads an endless, resumable stream per (rank, worker). Each stream draws shards
with replacement from its own seeded RNG (webdataset's "resampled shards": ranks never need
to split the shard list) and shuffles the samples of each drawn shard with a buffer. So a
stream's place is two integers, `StreamPosition(draw, offset)`: the index of the current
draw and how many samples of it were consumed. Augmentation is seeded per sample from that
place. A run that resumes at the saved positions therefore sees exactly the batches, crops
and order it would have seen without the stop, at the cost of re-reading (not decoding) at
most one shard per stream.

Corrupt samples (unreadable shard, oversize member, missing or undecodable image, missing or
empty caption) are skipped and counted by reason; every batch carries the counts of the
samples skipped since the previous batch of its stream.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import webdataset as wds
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from pmc_pipeline.outputs import Output
from pmc_pipeline.train.reader import read_shard
from pmc_pipeline.train.tokenizer import load_tokenizer

# The build publishes JPEGs with the longer side <= 1024; a far larger header is refused
# before its pixels are decoded (decompression bombs).
MAX_IMAGE_PIXELS = 4096 * 4096
# A stream that meets this many corrupt samples in a row has nothing left to learn from.
MAX_CONSECUTIVE_SKIPS = 100_000


class SkipSample(Exception):
    """A sample that cannot be used; `reason` names why (it is counted, not raised)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def decode_sample(
    sample: dict, max_pixels: int = MAX_IMAGE_PIXELS, min_side: int | None = None
) -> tuple[Image.Image, str]:
    """The RGB image and caption of a raw shard sample, or SkipSample with the reason.

    With `min_side`, the JPEG is decoded at the smallest DCT scale (1/2, 1/4, 1/8) whose
    sides are still at least `min_side`: several times faster for small crops of large
    figures, and no detail lost that the crop would keep."""
    if "__skip__" in sample:
        raise SkipSample(sample["__skip__"])
    if sample.get("jpg") is None:
        raise SkipSample("missing_image")
    if sample.get("txt") is None:
        raise SkipSample("missing_caption")
    try:
        caption = sample["txt"].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SkipSample("bad_caption") from None
    if not caption:
        raise SkipSample("empty_caption")
    try:
        image = Image.open(io.BytesIO(sample["jpg"]), formats=("JPEG",))
        if image.width * image.height > max_pixels:
            raise SkipSample("image_too_large")
        if min_side is not None:
            image.draft("RGB", (min_side, min_side))
        image = image.convert("RGB")  # decodes every pixel: truncated files fail here
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise SkipSample("bad_image") from None
    return image, caption


@dataclass(frozen=True)
class StreamPosition:
    """Where a training stream stands: `offset` samples of its `draw`-th shard consumed."""

    draw: int = 0
    offset: int = 0

    def astuple(self) -> tuple[int, int]:
        return (self.draw, self.offset)


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
        positions = {s: StreamPosition(d, o) for s, d, o in saved["positions"]}
        return cls(positions, saved["batches"], saved["skipped"])


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from parts; stable across processes and Python versions."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _batches(
    items: Iterator[tuple[StreamPosition, str, torch.Tensor, str]],
    batch_size: int,
    tokenizer,
    skipped: Counter,
    stream: int,
    drop_last: bool,
) -> Iterator[Batch]:
    """Group (position, key, image, caption) items into Batches; `skipped` is the stream's
    live counter of skipped samples, reset after each batch."""
    pending: list = []
    for item in items:
        pending.append(item)
        if len(pending) == batch_size:
            yield _make_batch(pending, tokenizer, skipped, stream)
            pending = []
    if pending and not drop_last:
        yield _make_batch(pending, tokenizer, skipped, stream)


def _make_batch(pending: list, tokenizer, skipped: Counter, stream: int) -> Batch:
    batch = Batch(
        images=torch.stack([image for _, _, image, _ in pending]),
        texts=tokenizer([caption for _, _, _, caption in pending]),
        stream=stream,
        position=pending[-1][0],
        skipped=dict(skipped),
        keys=[key for _, key, _, _ in pending],
    )
    skipped.clear()
    return batch


def decode_side(image_size: int, min_crop_scale: float | None = None) -> int:
    """The smallest image side to decode for crops of `image_size` pixels without
    upsampling: RandomResizedCrop keeps at least sqrt(min_scale * 3/4) of the shorter side
    (area >= min_scale, aspect ratio >= 3/4); evaluation resizes the shorter side."""
    if min_crop_scale is None:
        return image_size
    return math.ceil(image_size / math.sqrt(min_crop_scale * 3 / 4))


def _decoded(
    samples, transform: Callable, skipped: Counter, seed_of: Callable | None, min_side: int | None
):
    """(position, raw sample) -> (position, key, image tensor, caption), counting skips.
    With `seed_of`, each sample's augmentation draws from its own seed, leaving the global
    RNG as it was."""
    consecutive = 0
    for position, sample in samples:
        try:
            image, caption = decode_sample(sample, min_side=min_side)
        except SkipSample as skip:
            skipped[skip.reason] += 1
            consecutive += 1
            if consecutive > MAX_CONSECUTIVE_SKIPS:
                raise RuntimeError(
                    f"{consecutive} corrupt samples in a row: {dict(skipped)}"
                ) from None
            continue
        consecutive = 0
        tensor = (
            transform(image) if seed_of is None else _seeded(transform, image, seed_of(position))
        )
        yield position, sample["__key__"], tensor, caption


def _seeded(transform: Callable, image: Image.Image, seed: int) -> torch.Tensor:
    """transform(image) with torch's CPU RNG seeded for this call and restored after, so the
    crop depends on the sample only (torchvision's random transforms draw from that RNG)."""
    generator = torch.default_generator
    state = generator.get_state()
    generator.manual_seed(seed)
    try:
        return transform(image)
    finally:
        generator.set_state(state)


class TrainStreams(IterableDataset):
    """Endless training batches of one rank; each DataLoader worker runs one stream.

    Streams are numbered globally, rank after rank (rank r owns streams r*n .. r*n+n-1), and
    a stream's data depends only on the seed and its number. So 2 ranks of one stream each
    read what 1 process with 2 streams reads, batch for batch.

    `start` maps a stream to where it resumes; `rotation` shifts worker ids onto streams so
    that, after a resume, the DataLoader's round-robin over workers continues with the
    stream that was next (rotation = batches consumed so far, modulo streams)."""

    def __init__(
        self,
        data: str,
        shards: list[str],
        *,
        transform: Callable,
        tokenizer_dir: str,
        context_length: int,
        batch_size: int,
        seed: int,
        rank: int,
        num_streams: int,
        shuffle_buffer: int,
        start: dict[int, StreamPosition] | None = None,
        rotation: int = 0,
        min_side: int | None = None,
    ):
        if not shards:
            raise ValueError(f"no training shards under {data}/webdataset/train")
        self.data, self.shards = data, list(shards)
        self.transform, self.batch_size = transform, batch_size
        self.tokenizer_dir, self.context_length = tokenizer_dir, context_length
        self.seed, self.rank, self.num_streams = seed, rank, num_streams
        self.shuffle_buffer = shuffle_buffer
        self.start = dict(start or {})
        self.rotation = rotation
        self.min_side = min_side

    def _stream_id(self) -> int:
        info = get_worker_info()
        workers = info.num_workers if info else 1
        if workers != self.num_streams:
            raise RuntimeError(f"{workers} loader workers for {self.num_streams} streams")
        local = ((info.id if info else 0) + self.rotation) % workers
        return self.rank * self.num_streams + local

    def positioned_samples(self, stream: int) -> Iterator[tuple[StreamPosition, dict]]:
        """The stream's raw samples with the position after each, from its start position;
        samples before it are re-read but not decoded."""
        output = Output(self.data)
        start = self.start.get(stream, StreamPosition())
        draws = random.Random(stable_seed("shards", self.seed, stream))
        empty_draws = 0
        for draw in itertools.count():
            relpath = draws.choice(self.shards)
            if draw < start.draw:
                continue
            rng = random.Random(stable_seed("shuffle", self.seed, stream, draw))
            shuffled = wds.shuffle(self.shuffle_buffer, initial=self.shuffle_buffer, rng=rng)
            offset = 0
            for offset, sample in enumerate(shuffled(read_shard(output, relpath)), start=1):
                if draw == start.draw and offset <= start.offset:
                    continue
                yield StreamPosition(draw, offset), sample
            empty_draws = empty_draws + 1 if offset == 0 else 0
            if empty_draws > 10 * len(self.shards):
                raise RuntimeError(f"no samples in the training shards under {self.data}")

    def __iter__(self) -> Iterator[Batch]:
        stream = self._stream_id()
        tokenizer = load_tokenizer(self.tokenizer_dir, self.context_length)
        skipped: Counter = Counter()

        def seed_of(position: StreamPosition) -> int:
            return stable_seed("augment", self.seed, stream, *position.astuple())

        items = _decoded(
            self.positioned_samples(stream), self.transform, skipped, seed_of, self.min_side
        )
        yield from _batches(items, self.batch_size, tokenizer, skipped, stream, drop_last=True)


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
        self.transform, self.tokenizer, self.batch_size = transform, tokenizer, batch_size
        self.min_side = min_side

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        mine = self.shards[info.id :: info.num_workers] if info else self.shards
        output = Output(self.data)
        samples = ((None, s) for relpath in mine for s in read_shard(output, relpath))
        skipped: Counter = Counter()
        items = _decoded(samples, self.transform, skipped, None, self.min_side)
        yield from _batches(items, self.batch_size, self.tokenizer, skipped, 0, drop_last=False)
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
