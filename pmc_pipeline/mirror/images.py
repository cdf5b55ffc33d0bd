"""Synthetic figure files: pictures (drawing.py) encoded the way PMC files vary.

`encode(image, encoding)` turns a picture into file bytes in one of the formats and pixel modes
found in PMC (JPEG RGB/L/CMYK, PNG RGB/RGBA/P/16-bit, GIF, TIFF). The other functions make
the troublesome variants the pipeline must cope with: pixel-identical re-encodings, near
duplicates, corrupt files and GIF thumbnails. Everything is a pure function of its
arguments; Pillow's encoders are deterministic for fixed input and settings.
"""

from __future__ import annotations

import io
import random
import tempfile
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "TIFF": "tif"}


@dataclass(frozen=True)
class Encoding:
    """How a picture is stored: Pillow format name and pixel mode, plus JPEG settings."""

    format: str  # JPEG, PNG, GIF, TIFF
    mode: str  # RGB, L, CMYK, RGBA, P, I;16
    quality: int = 90
    progressive: bool = False

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


# --- encoding -----------------------------------------------------------------------------


def to_mode(rgb: Image.Image, mode: str) -> Image.Image:
    """The RGB picture in the pixel mode a file will store."""
    if mode == "RGB":
        return rgb
    if mode in ("L", "CMYK"):
        return rgb.convert(mode)
    if mode == "P":
        # FASTOCTREE: median cut (Pillow's default) is ~100x slower on photos.
        return rgb.quantize(colors=64, method=Image.Quantize.FASTOCTREE)
    if mode == "RGBA":
        # A transparent page background, as exported charts often have.
        alpha = rgb.convert("L").point(lambda v: 0 if v > 240 else 255)
        return Image.merge("RGBA", (*rgb.split(), alpha))
    if mode == "I;16":
        # 12-bit data in a 16-bit container, as microscopy cameras write it.
        grey = np.asarray(rgb.convert("L"), dtype=np.uint16) * 16
        return Image.fromarray(grey)  # uint16 -> 'I;16'
    raise ValueError(f"unsupported pixel mode {mode!r}")


def save(image: Image.Image, fmt: str, *, quality: int = 90, progressive: bool = False) -> bytes:
    """File bytes of an image already in the pixel mode to store."""
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=quality, progressive=progressive)
    elif fmt == "PNG":
        image.save(out, "PNG", compress_level=1)  # speed over size: nobody reads the level
    elif fmt == "GIF":
        if image.mode not in ("P", "L"):
            image = image.convert("RGB").quantize(colors=64, method=Image.Quantize.FASTOCTREE)
        image.save(out, "GIF")
    elif fmt == "TIFF":
        # libtiff pads the directory to an even offset by seeking past the end. In a memory
        # buffer that pad byte is left uninitialised (the bytes then differ run to run); in
        # a real file the filesystem fills the hole with a zero.
        with tempfile.TemporaryFile() as spool:
            image.save(spool, "TIFF", compression="tiff_lzw")
            spool.seek(0)
            return spool.read()
    else:
        raise ValueError(f"unsupported image format {fmt!r}")
    return out.getvalue()


def encode(rgb: Image.Image, encoding: Encoding) -> bytes:
    """File bytes of an RGB picture stored as `encoding` says."""
    return save(
        to_mode(rgb, encoding.mode),
        encoding.format,
        quality=encoding.quality,
        progressive=encoding.progressive,
    )


def decode(data: bytes) -> Image.Image:
    """The decoded pixels of file bytes we wrote ourselves (trusted input)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def reencode_same_pixels(data: bytes) -> tuple[bytes, str]:
    """Different file bytes that decode to exactly the same pixels, and their format.

    A lossless format other than the source's: PNG, or TIFF for CMYK (PNG has no CMYK)
    and for a PNG source."""
    image = decode(data)
    fmt = "TIFF" if image.mode == "CMYK" or image.format == "PNG" else "PNG"
    return save(image, fmt), fmt


# --- near duplicates ----------------------------------------------------------------------

NEAR_TRANSFORMS = ("crop", "resize", "brightness", "recompress")


def perturb(rgb: Image.Image, transform: str, rng: random.Random) -> Image.Image:
    """A near duplicate's picture: the same picture slightly cropped, resized or
    brightened ('recompress' keeps it as it is: the change is a lossy re-encoding, see
    near_duplicate_quality).

    The changes are small enough that a 64-bit perceptual hash moves by a few bits at
    most (the build's near-duplicate threshold is a Hamming distance of about 4)."""
    w, h = rgb.size
    if transform == "recompress":
        return rgb
    if transform == "crop":
        # Thin: a perceptual hash is far more sensitive to cropping than to resizing.
        dx, dy = (
            max(1, int(w * rng.uniform(0.003, 0.008))),
            max(1, int(h * rng.uniform(0.003, 0.008))),
        )
        return rgb.crop((dx, dy, w - dx, h - dy))
    if transform == "resize":
        factor = rng.uniform(0.6, 0.85)
        return rgb.resize(
            (max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.LANCZOS
        )
    if transform == "brightness":
        factor = rng.choice((rng.uniform(0.9, 0.95), rng.uniform(1.05, 1.1)))
        return ImageEnhance.Brightness(rgb).enhance(factor)
    raise ValueError(f"unknown near-duplicate transform {transform!r}")


def near_duplicate_quality(transform: str, rng: random.Random) -> int:
    """The JPEG quality a near duplicate is stored at: low for 'recompress'."""
    return rng.randint(50, 65) if transform == "recompress" else 90


# --- corrupt files ------------------------------------------------------------------------

CORRUPTIONS = ("truncated", "bad_stream", "not_an_image", "empty")
_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n"
    b"<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service "
    b"your request. Please try again later.</p></body></html>\n"
)


def corrupt(data: bytes, kind: str, rng: random.Random) -> bytes:
    """Bytes that fail to decode, the way broken files in the wild do.

    'truncated' cuts the file inside its pixel data; 'bad_stream' garbles a PNG's
    compressed pixel data; 'not_an_image' is an HTML error page saved under the image's
    name; 'empty' is a zero-byte file."""
    if kind == "truncated":
        return data[: int(len(data) * rng.uniform(0.35, 0.7))]
    if kind == "bad_stream":
        start = data.find(b"IDAT")
        if start < 0:
            raise ValueError("bad_stream corruption needs PNG bytes")
        body = start + 4 + 16  # past the chunk type and the zlib header region
        garbled = bytes(b ^ 0x5A for b in data[body : body + 64])
        return data[:body] + garbled + data[body + 64 :]
    if kind == "not_an_image":
        return _ERROR_PAGE
    if kind == "empty":
        return b""
    raise ValueError(f"unknown corruption {kind!r}")


# --- thumbnails ---------------------------------------------------------------------------


PREVIEW_MIN_SIDE = 128


def preview(image: Image.Image) -> Image.Image:
    """The picture box-reduced to a short side of at least PREVIEW_MIN_SIDE: enough for a
    thumbnail and a perceptual hash, made once instead of once for each."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    factor = max(1, min(rgb.size) // PREVIEW_MIN_SIDE)
    return rgb.reduce(factor) if factor > 1 else rgb


def pmc_thumbnail_size(width: int, height: int) -> tuple[int, int]:
    """PMC's thumbnail box, read off real ones (shared fixtures images/pmc): landscape fits
    200 x 80, portrait is 100 wide; never enlarged."""
    scale = min(200 / width, 80 / height) if width >= height else 100 / width
    scale = min(1.0, scale)
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail_gif(image: Image.Image, size: tuple[int, int]) -> bytes:
    """A PMC-style thumbnail: a palette GIF of the picture at `size` (never enlarged)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    width, height = min(size[0], rgb.width), min(size[1], rgb.height)
    factor = min(rgb.width // width, rgb.height // height)
    if factor > 1:
        rgb = rgb.reduce(factor)  # box averaging first: fast, and no aliasing
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
    return save(rgb.quantize(colors=64, method=Image.Quantize.FASTOCTREE), "GIF")
