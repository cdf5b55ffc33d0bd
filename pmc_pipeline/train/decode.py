"""Decoding a shard sample for the loader: the caption, and the JPEG at the smallest size
the transform needs, with every way a sample can be unusable named.

The build publishes JPEGs with the longer side <= 1024; a far larger header is refused
before its pixels are decoded (decompression bombs).
"""

from __future__ import annotations

import io
import math

from PIL import Image

MAX_IMAGE_PIXELS = 4096 * 4096


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


def decode_side(image_size: int, min_crop_scale: float | None = None) -> int:
    """The smallest image side to decode for crops of `image_size` pixels without
    upsampling: RandomResizedCrop keeps at least sqrt(min_scale * 3/4) of the shorter side
    (area >= min_scale, aspect ratio >= 3/4); evaluation resizes the shorter side."""
    if min_crop_scale is None:
        return image_size
    return math.ceil(image_size / math.sqrt(min_crop_scale * 3 / 4))
