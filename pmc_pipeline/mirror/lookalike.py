"""Images that look alike by accident.

Synthetic pictures of one kind share their layout (axes, a white page), so now and then two
unrelated ones land within the build's near-duplicate distance. The generator cannot see
other articles while it draws one (articles are independent so they can be drawn in
parallel), so each article reports a perceptual hash per image and `similar_pairs` finds
the close pairs afterwards; the truth file lists them so no test mistakes them for errors.

The hash is imagehash.phash, as the build computes it, but of the picture before encoding
(the build hashes the decoded file): an estimate within a few bits, hence the margin.
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

from pmc_pipeline.mirror import images

SIMILAR_DISTANCE = 6  # the build's default threshold (4) plus a margin for the estimate


def phash(image: Image.Image) -> int:
    """The 64-bit perceptual hash of an image, as an int. A big image is box-reduced
    first (phash's own resize is slow on big images; images.preview does the same)."""
    return int(str(imagehash.phash(images.preview(image))), 16)


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def similar_pairs(
    hashes: list[tuple[str, int]], max_distance: int = SIMILAR_DISTANCE
) -> list[tuple[str, str, int]]:
    """(key a, key b, distance) of every pair within max_distance, a < b, sorted.

    Multi-index search: split the 64 bits into max_distance + 1 blocks; two hashes within
    the distance agree exactly on at least one block (pigeonhole), so only hashes sharing a
    block value are compared, group by group, with numpy."""
    if len(hashes) < 2:
        return []
    keys = [k for k, _ in hashes]
    values = np.array([v for _, v in hashes], dtype=np.uint64)
    blocks = max_distance + 1
    bounds = [round(64 * b / blocks) for b in range(blocks + 1)]
    found: dict[tuple[str, str], int] = {}
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        block = (values >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
        order = np.argsort(block, kind="stable")
        sorted_blocks = block[order]
        starts = np.flatnonzero(np.r_[True, sorted_blocks[1:] != sorted_blocks[:-1]])
        ends = np.r_[starts[1:], len(order)]
        for start, end in zip(starts, ends, strict=False):
            if end - start < 2:
                continue
            members = order[start:end]
            group = values[members]
            dist = np.bitwise_count(group[:, None] ^ group[None, :])
            for i, j in zip(*np.nonzero(np.triu(dist <= max_distance, k=1)), strict=False):
                a, b = keys[members[i]], keys[members[j]]
                if a != b:
                    found[(min(a, b), max(a, b))] = int(dist[i, j])
    return sorted((a, b, d) for (a, b), d in found.items())
