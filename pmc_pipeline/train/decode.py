"""Decoding a shard sample for the loader: its caption, and its JPEG at the smallest size the
image transform needs, with every way a sample can be unusable named; then the pixels of a
batch as one tensor.

The build publishes JPEGs with the longer side <= 1024; a far larger header is refused
before its pixels are decoded (decompression bombs). JPEGs are decoded by libjpeg-turbo
through simplejpeg, which scales by any eighth while decoding (Pillow's `draft` only by 1/2,
1/4, 1/8); what simplejpeg refuses (a CMYK JPEG, a damaged file) goes to Pillow, which has
the last word.

`LoaderTransform` runs a model's image transform the fast way, with the same result up to
the rounding of a resampling: open_clip's training transform (RandomResizedCrop, then
ToTensor and Normalize) draws its crop from the JPEG header's size, decodes the JPEG at the
smallest scale that keeps the crop at least as large as the output, and resamples the crop
from there; the ToTensor + Normalize arithmetic runs once per batch.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import simplejpeg
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import functional as F

MAX_IMAGE_PIXELS = 4096 * 4096
# Colour spaces libjpeg-turbo turns into RGB itself; the others (CMYK, YCCK) go to Pillow.
TURBO_COLORSPACES = ("YCbCr", "Gray", "RGB")


class SkipSample(Exception):
    """A sample that cannot be used; `reason` names why (it is counted, not raised)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sample_caption(sample: dict) -> str:
    """The caption of a raw shard sample that has an image, or SkipSample with the reason."""
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
    return caption


def decode_sample(
    sample: dict, max_pixels: int = MAX_IMAGE_PIXELS, min_side: int | None = None
) -> tuple[Image.Image, str]:
    """The RGB image and caption of a raw shard sample, or SkipSample with the reason
    (see decode_jpeg for `min_side`)."""
    caption = sample_caption(sample)
    return decode_jpeg(sample["jpg"], max_pixels, min_side, min_side), caption


def jpeg_size(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> tuple[int, int]:
    """(width, height) from a JPEG's header, or SkipSample (image_too_large, bad_image)."""
    try:
        height, width, _, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        try:
            with Image.open(io.BytesIO(data), formats=("JPEG",)) as image:
                width, height = image.size
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise SkipSample("bad_image") from None
    if width * height > max_pixels:
        raise SkipSample("image_too_large")
    return width, height


def decode_jpeg(
    data: bytes,
    max_pixels: int = MAX_IMAGE_PIXELS,
    min_width: int | None = None,
    min_height: int | None = None,
) -> Image.Image:
    """An RGB image from JPEG bytes, or SkipSample. With `min_width` / `min_height`, decoded
    at the smallest scale (n/8) whose sides are still at least that large: several times
    faster for small outputs of large figures, and no detail lost that they would keep."""
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:  # not a header libjpeg-turbo reads: Pillow decides
        return _decode_with_pillow(data, max_pixels, min_width, min_height)
    if width * height > max_pixels:
        raise SkipSample("image_too_large")
    if colorspace in TURBO_COLORSPACES:
        try:
            pixels = simplejpeg.decode_jpeg(
                data, "RGB", min_height=min_height or 0, min_width=min_width or 0
            )
        except ValueError:  # strict about damage Pillow may still read
            return _decode_with_pillow(data, max_pixels, min_width, min_height)
        return Image.fromarray(pixels)
    return _decode_with_pillow(data, max_pixels, min_width, min_height)


def _decode_with_pillow(data: bytes, max_pixels: int, min_width, min_height) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=("JPEG",))
        if image.width * image.height > max_pixels:
            raise SkipSample("image_too_large")
        if min_width or min_height:
            image.draft("RGB", (min_width or 1, min_height or 1))
        image.load()  # decodes every pixel: truncated files fail here
        return image if image.mode == "RGB" else image.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise SkipSample("bad_image") from None


def decode_side(image_size: int, min_crop_scale: float | None = None) -> int:
    """The smallest image side to decode for crops of `image_size` pixels without
    upsampling: RandomResizedCrop keeps at least sqrt(min_scale * 3/4) of the shorter side
    (area >= min_scale, aspect ratio >= 3/4); evaluation resizes the shorter side."""
    if min_crop_scale is None:
        return image_size
    return math.ceil(image_size / math.sqrt(min_crop_scale * 3 / 4))


def _is_to_tensor_normalize(steps) -> bool:
    return (
        len(steps) >= 2
        and isinstance(steps[-2], T.ToTensor)
        and isinstance(steps[-1], T.Normalize)
        and not steps[-1].inplace
    )


class LoaderTransform:
    """A model's image transform (a torchvision Compose, as open_clip makes them) split for
    the loader: `image(jpeg)` decodes and transforms one image, `stack(images)` makes the
    batch tensor.

    - A first RandomResizedCrop draws its crop (torchvision's get_params, from torch's RNG,
      as the transform itself would) on the header's size; the JPEG is decoded at the
      smallest n/8 scale that keeps the crop at least as large as the output, and the crop
      is resampled from there (Pillow, the transform's interpolation).
    - A final ToTensor + Normalize runs once per batch on the uint8 pixels: / 255, - mean,
      / std, the same arithmetic, in one pass over the batch instead of several per image.
    - Anything else runs as it is, on an image decoded with sides of at least `min_side`.
    """

    def __init__(
        self, transform: Callable, min_side: int | None = None, max_pixels: int = MAX_IMAGE_PIXELS
    ):
        self.transform, self.min_side, self.max_pixels = transform, min_side, max_pixels
        self.crop: Any = None  # the transform's RandomResizedCrop, when it starts with one
        self.tail: Callable | None = None  # its ToTensor + Normalize, when it ends with them
        self.mean: torch.Tensor | None = None  # Normalize's, shaped for a batch
        self.std: torch.Tensor | None = None
        steps = list(transform.transforms) if isinstance(transform, T.Compose) else None
        if steps is None:
            self.middle = transform
            return
        if _is_to_tensor_normalize(steps):
            self.tail = T.Compose(steps[-2:])
            normalize = steps[-1]
            self.mean = torch.as_tensor(normalize.mean, dtype=torch.float32).view(1, -1, 1, 1)
            self.std = torch.as_tensor(normalize.std, dtype=torch.float32).view(1, -1, 1, 1)
            steps = steps[:-2]
        if steps and type(steps[0]) is T.RandomResizedCrop:
            self.crop, steps = steps[0], steps[1:]
        self.middle = T.Compose(steps)

    def image(self, jpeg: bytes):
        """One image, transformed up to what `stack` does; SkipSample if unusable."""
        return self.finish(*self.decode(jpeg))

    def decode(self, jpeg: bytes) -> tuple[Image.Image, tuple | None]:
        """(the decoded image, the box of the crop in it, or None without a crop)."""
        if self.crop is None:
            return decode_jpeg(jpeg, self.max_pixels, self.min_side, self.min_side), None
        crop = self.crop
        width, height = jpeg_size(jpeg, self.max_pixels)
        # get_params reads only the size: a tensor of that shape that holds no memory
        size_only = torch.empty(1, 1, 1).expand(3, height, width)
        top, left, h, w = crop.get_params(size_only, crop.scale, crop.ratio)
        out_h, out_w = crop.size
        image = decode_jpeg(
            jpeg, self.max_pixels, math.ceil(out_w * width / w), math.ceil(out_h * height / h)
        )
        sx, sy = image.width / width, image.height / height
        return image, (left * sx, top * sy, (left + w) * sx, (top + h) * sy)

    def finish(self, image: Image.Image, box: tuple | None):
        """The crop resampled to the output size, then the steps before ToTensor."""
        if box is not None:
            out_h, out_w = self.crop.size
            resample = F.pil_modes_mapping[self.crop.interpolation]
            image = image.resize((out_w, out_h), resample, box=box)
        return self.middle(image)

    def stack(self, images: list) -> torch.Tensor:
        """The batch tensor of `image` outputs."""
        if self.tail is None:
            return torch.stack(images)
        assert self.mean is not None and self.std is not None  # set with the tail
        arrays = [np.asarray(image) for image in images]
        shape = arrays[0].shape
        channels = self.mean.shape[1]
        if len(shape) != 3 or shape[2] != channels or any(a.shape != shape for a in arrays):
            return torch.stack([self.tail(image) for image in images])
        pixels = np.empty((len(arrays), channels, shape[0], shape[1]), dtype=np.uint8)
        for i, array in enumerate(arrays):
            pixels[i] = array.transpose(2, 0, 1)
        return torch.from_numpy(pixels).float().div_(255).sub_(self.mean).div_(self.std)
