"""A small synthetic build for the trainer's tests and benchmarks, in the published layout.

Each image is a coloured shape at some place on a plain background, and its caption says
which, so a contrastive model can learn the pairs in a few hundred steps on a CPU. The
layout is the build's contract: OUTPUT/webdataset/<split>/<split>-NNNNNN.tar with members
`<key>.jpg`, `<key>.txt`, `<key>.json`, sizes.json beside them (shard file -> samples),
and OUTPUT/stats.json with `pairs_per_split` and `shards`.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import webdataset as wds
from PIL import Image, ImageDraw

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 170, 60),
    "blue": (40, 70, 220),
    "yellow": (235, 215, 40),
    "purple": (140, 50, 170),
    "orange": (245, 140, 20),
    "black": (15, 15, 15),
    "cyan": (40, 200, 210),
}
SHAPES = ("circle", "square", "triangle", "cross")
PLACES = {
    "upper left": (0.3, 0.3),
    "upper right": (0.7, 0.3),
    "lower left": (0.3, 0.7),
    "lower right": (0.7, 0.7),
}


def draw_figure(colour: str, shape: str, place: str, size: int = 64) -> Image.Image:
    image = Image.new("RGB", (size, size), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    cx, cy = (int(f * size) for f in PLACES[place])
    r = size // 5
    fill = COLOURS[colour]
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif shape == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
    else:
        w = max(2, r // 3)
        draw.rectangle((cx - r, cy - w, cx + r, cy + w), fill=fill)
        draw.rectangle((cx - w, cy - r, cx + w, cy + r), fill=fill)
    return image


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def synthetic_pairs(n: int, seed: int, image_size: int = 64, first_id: int = 1000):
    """n (key, jpeg bytes, caption) triples; key follows the build's scheme."""
    rng = random.Random(seed)
    for i in range(n):
        colour, shape, place = (
            rng.choice(list(COLOURS)),
            rng.choice(SHAPES),
            rng.choice(list(PLACES)),
        )
        caption = f"A {colour} {shape} in the {place} corner of the panel."
        key = f"PMC{first_id + i}v1_f{1 + i % 7:03d}"
        yield key, jpeg_bytes(draw_figure(colour, shape, place, image_size)), caption


def write_shard(path: Path, samples) -> int:
    """Write (key, jpeg, caption) samples as one shard; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with wds.TarWriter(str(path)) as writer:
        for key, jpeg, caption in samples:
            sidecar = {
                "key": key,
                "pmcid": key.split("v")[0],
                "caption": caption,
                "license": "CC BY",
            }
            writer.write(
                {
                    "__key__": key,
                    "jpg": jpeg,
                    "txt": caption.encode("utf-8"),
                    "json": json.dumps(sidecar).encode("utf-8"),
                }
            )
            count += 1
    return count


def write_synthetic_build(
    output: Path,
    pairs: dict[str, int],
    shard_size: int = 100,
    image_size: int = 64,
    seed: int = 0,
) -> dict:
    """Write a synthetic build with pairs[split] samples per split; returns its stats."""
    stats: dict = {"pairs_per_split": {}, "shards": {}}
    first_id = 1000
    for n_split, (split, n) in enumerate(sorted(pairs.items())):
        samples = list(synthetic_pairs(n, seed * 1000 + n_split, image_size, first_id))
        first_id += n
        stats["pairs_per_split"][split] = n
        stats["shards"][split] = []
        sizes = {}
        for index, start in enumerate(range(0, max(n, 1), shard_size)):
            relpath = f"webdataset/{split}/{split}-{index:06d}.tar"
            sizes[relpath.rsplit("/", 1)[-1]] = write_shard(
                output / relpath, samples[start : start + shard_size]
            )
            stats["shards"][split].append(relpath)
        (output / f"webdataset/{split}/sizes.json").write_text(json.dumps(sizes), encoding="utf-8")
    (output / "stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    return stats
