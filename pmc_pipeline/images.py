"""Figure images: decode, validate, normalise to RGB, resize, re-encode as JPEG, hash.

`process_image(data)` turns the bytes of one figure file (whatever PMC holds: JPEG, PNG,
GIF, TIFF, ...) into a `ProcessedImage`: an RGB JPEG whose longer side is at most
`max_side`, plus what dedupe and the sidecar need (original size and format, the hash of
the decoded pixels, a perceptual hash). Bad or unsafe bytes raise `ImageError` with a short
reason code and never anything else, so the caller can record a figure status and go on.

The steps, in order, and why:
1. Refuse empty input; open the header only, from an allowlist of raster formats (EPS
   would run Ghostscript, and nothing in PMC's figure set needs it).
2. Refuse a pixel count above `max_pixels` before decoding: the header states the size, and
   a 44-byte GIF can claim 4 gigapixels.
3. Decode the first frame (animated GIF, multi-page TIFF: the first is the figure) and
   apply the EXIF orientation, so width/height are as a reader sees the figure.
4. Normalise to 8-bit RGB: colour-manage a non-sRGB ICC profile to sRGB, flatten
   transparency on white (a page is white), stretch 16-bit / 32-bit / float greys to 8 bits.
5. Hash those RGB pixels at full size (the exact-dedupe key), resize (never up), compute
   the 64-bit perceptual hash, and encode a baseline JPEG without metadata.

Every step is deterministic, so the same bytes and options give the same JPEG bytes.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import imagehash
import numpy as np
from PIL import Image, ImageCms, ImageOps

# Reason codes of ImageError (recorded as the figure's status reason).
EMPTY = "empty"  # no bytes, or an image with a zero side
UNDECODABLE = "undecodable"  # not an image in an allowed format, or corrupt data
TRUNCATED = "truncated"  # the file ends before the pixel data does
DECOMPRESSION_BOMB = "decompression_bomb"  # declared size over max_pixels; PNG text bomb
UNSUPPORTED_MODE = "unsupported_mode"  # a pixel mode we cannot turn into RGB
REASONS = (EMPTY, UNDECODABLE, TRUNCATED, DECOMPRESSION_BOMB, UNSUPPORTED_MODE)

# Pillow's own warning limit (89,478,485 pixels, about 0.25 GiB as RGB): far above any real
# PMC figure, low enough that a worker decoding a few images at once stays within memory.
DEFAULT_MAX_PIXELS = 89_478_485
DEFAULT_MAX_SIDE = 1024
DEFAULT_QUALITY = 95
# Bumped whenever a change here can change the JPEG, sizes or hashes of some image: staging
# records it, and a build refuses staging processed by another version (ledger.py).
IMAGE_VERSION = 1

# Raster formats a PMC figure comes in. Anything else is refused as undecodable; notably
# EPS/PS, which Pillow renders by running Ghostscript on the input.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "TIFF", "BMP", "WEBP", "JPEG2000")

_WHITE = (255, 255, 255)
# Modes Pillow converts to RGB correctly by itself.
_DIRECT_MODES = {"1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
# Modes with an alpha channel (premultiplied ones included): flattened on white.
_ALPHA_MODES = {"LA", "PA", "RGBA", "RGBa"}
# Single-channel modes wider than 8 bits: scaled to 8 bits with numpy.
_WIDE_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class ImageError(Exception):
    """Bytes that do not give a usable image; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ProcessedImage:
    """One figure image, normalised and re-encoded; see the module docstring."""

    jpeg: bytes = field(repr=False)
    width: int  # after resize
    height: int
    orig_width: int  # after EXIF orientation, before resize
    orig_height: int
    orig_format: str  # Pillow's format name: 'JPEG', 'PNG', 'GIF', 'TIFF', ...
    orig_mode: str  # Pillow's mode as decoded: 'RGB', 'L', 'P', 'CMYK', 'I;16', ...
    pixel_sha256: str  # hex sha256 of the RGB pixels at original size (exact-dedupe key)
    phash: str  # 16 hex digits: imagehash.phash of the resized image, 64 bits

    def to_metadata(self) -> dict:
        """Everything but the JPEG bytes, for the sample's JSON sidecar and Parquet row."""
        meta = asdict(self)
        del meta["jpeg"]
        return meta


def process_image(
    data: bytes,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    quality: int = DEFAULT_QUALITY,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> ProcessedImage:
    """Decode, validate, normalise, resize and re-encode one figure image.

    Raises ImageError (and nothing else) for bytes that are not a usable image; raises
    ValueError for invalid options, which is a caller's bug rather than bad input.
    Pillow refuses on its own anything over 2 x Image.MAX_IMAGE_PIXELS, so a max_pixels
    above that needs Image.MAX_IMAGE_PIXELS raised as well.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels}")
    if not data:
        raise ImageError(EMPTY, "no bytes")

    # Everything happens inside the block: an RGB image is used as decoded, not copied,
    # and closing it frees the pixels.
    with _decoded(data, max_pixels) as im:
        try:
            rgb = _to_rgb(im)
        except ImageError:
            raise
        except Exception as exc:  # Pillow's converters on a crafted file; see _decoded
            raise ImageError(UNDECODABLE, f"{type(exc).__name__}: {exc}") from exc
        resized = _resize(rgb, max_side)
        return ProcessedImage(
            jpeg=_encode_jpeg(resized, quality),
            width=resized.width,
            height=resized.height,
            orig_width=rgb.width,
            orig_height=rgb.height,
            orig_format=im.format or "",
            orig_mode=im.mode,
            pixel_sha256=_pixel_sha256(rgb),
            phash=str(imagehash.phash(resized)),
        )


# --- decode -------------------------------------------------------------------------------


@contextmanager
def _decoded(data: bytes, max_pixels: int) -> Iterator[Image.Image]:
    """The decoded first frame of `data`, closed on exit; ImageError for bad bytes."""
    image = _open_and_load(data, max_pixels)
    try:
        yield image
    finally:
        image.close()


def _open_and_load(data: bytes, max_pixels: int) -> Image.Image:
    # Pillow signals bad input in many ways (UnidentifiedImageError, OSError for truncated
    # or corrupt streams, ValueError, SyntaxError, struct.error, IndexError... from its
    # format plugins on crafted files), so all of it is mapped to a reason here, in one
    # place, and nothing else escapes.
    image = None
    try:
        # Our own max_pixels check replaces Pillow's bomb warning; its error (at twice its
        # limit) still fires and is mapped to the same reason. A corrupt EXIF block is
        # harmless: the orientation is then simply absent. (catch_warnings swaps a
        # process-wide filter list; a concurrent thread can at worst see these two
        # warnings unsilenced, never a different result.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", "Corrupt EXIF data", UserWarning)
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            _check_size(image.size, max_pixels)  # from the header, before any decoding
            image.load()
            _check_size(image.size, max_pixels)  # a GIF frame may have grown the canvas
            ImageOps.exif_transpose(image, in_place=True)
        return image
    except Exception as exc:
        if image is not None:
            image.close()
        if isinstance(exc, ImageError):
            raise
        raise ImageError(_reason_of(exc), f"{type(exc).__name__}: {exc}") from exc


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(EMPTY, f"image size {width}x{height}")
    if width * height > max_pixels:
        raise ImageError(
            DECOMPRESSION_BOMB, f"{width}x{height} = {width * height} pixels > {max_pixels}"
        )


def _reason_of(exc: Exception) -> str:
    if isinstance(exc, Image.DecompressionBombError):
        return DECOMPRESSION_BOMB
    message = str(exc)
    # PngImagePlugin's guards against zlib bombs in text chunks (MAX_TEXT_CHUNK/MEMORY).
    if isinstance(exc, ValueError) and (
        "Decompressed data too large" in message or "Too much memory used in text chunks" in message
    ):
        return DECOMPRESSION_BOMB
    if isinstance(exc, OSError) and "truncated" in message:
        return TRUNCATED
    return UNDECODABLE


# --- normalise ----------------------------------------------------------------------------


def _to_rgb(im: Image.Image) -> Image.Image:
    """8-bit RGB, transparency flattened on white, colours in sRGB (`im` itself when it
    is that already)."""
    mode = im.mode
    if mode in _WIDE_MODES:
        return _wide_to_l(im).convert("RGB")
    if mode in _ALPHA_MODES or (mode in _DIRECT_MODES and "transparency" in im.info):
        # P/L/RGB with a tRNS entry (palette index, grey level or colour key) too.
        return _flatten_on_white(im.convert("RGBA"))
    if mode in ("RGB", "CMYK"):
        managed = _icc_to_srgb(im)
        if managed is not None:
            return managed
    if mode == "RGB":
        return im
    if mode in _DIRECT_MODES:
        return im.convert("RGB")
    raise ImageError(UNSUPPORTED_MODE, f"mode {mode}")


def _flatten_on_white(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGB", rgba.size, _WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _wide_to_l(im: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or float grey image as 8-bit 'L'.

    Integer images whose values already fit 0..255 keep them; otherwise the value range
    [min, max] is stretched linearly onto 0..255 (how ImageJ and most viewers first show a
    scientific image: 12-bit microscopy in a 16-bit container would be near black if
    simply shifted right by 8 bits, and Pillow's own convert clips it all to white).
    NaN and infinities in float images become black. A grey level marked transparent
    (PNG tRNS) becomes white, as with the other flattened modes.
    """
    raw = np.asarray(im)
    if raw.dtype.kind == "f":
        grey = _stretch_float(raw)
    else:
        grey = _stretch_int(raw.astype(np.int64))
        transparent = im.info.get("transparency")
        if isinstance(transparent, int):
            grey[raw == transparent] = 255
    return Image.fromarray(grey)  # uint8, 2-D: mode L


def _stretch_int(values: np.ndarray) -> np.ndarray:
    lo, hi = int(values.min()), int(values.max())
    if lo >= 0 and hi <= 255:
        return values.astype(np.uint8)
    # Integer arithmetic rounded half up: exact on every machine. hi > lo here, since a
    # constant image outside 0..255 cannot also fit inside it.
    return (((values - lo) * 255 + (hi - lo) // 2) // (hi - lo)).astype(np.uint8)


def _stretch_float(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, dtype=np.uint8)
    values = np.where(finite, values, 0.0).astype(np.float64)
    lo, hi = float(values[finite].min()), float(values[finite].max())
    if hi == lo:
        out = np.full(values.shape, min(max(round(lo), 0), 255), dtype=np.float64)
    else:
        out = np.rint((values - lo) * (255.0 / (hi - lo)))
    out[~finite] = 0
    return np.clip(out, 0, 255).astype(np.uint8)


def _icc_to_srgb(im: Image.Image) -> Image.Image | None:
    """The image colour-managed from its embedded ICC profile to sRGB; None when it has
    no profile, an sRGB one (the common case in PMC: nothing to do), or one that lcms
    cannot use (the pixels are then taken as they are)."""
    icc = im.info.get("icc_profile")
    if not icc:
        return None
    transform = _transform_to_srgb(icc, im.mode)
    if transform is None:
        return None
    try:
        return ImageCms.applyTransform(im, transform)
    except (ImageCms.PyCMSError, ValueError, OSError):
        return None


@lru_cache(maxsize=16)
def _transform_to_srgb(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    # Cached: the few profiles publishers use are parsed once per worker. NOCACHE turns
    # off lcms's one-pixel cache inside the transform, which is not safe across threads.
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if ImageCms.getProfileDescription(profile).strip().startswith("sRGB"):
            return None
        return ImageCms.buildTransform(
            profile,
            _SRGB,
            mode,
            "RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            flags=ImageCms.Flags.NOCACHE,
        )
    except (ImageCms.PyCMSError, ValueError, OSError, TypeError):
        return None


# --- hash, resize, encode -----------------------------------------------------------------


def _pixel_sha256(rgb: Image.Image) -> str:
    # The size is part of the key: a 2x3 and a 3x2 image can have the same bytes.
    digest = hashlib.sha256(f"RGB {rgb.width}x{rgb.height}\n".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()


def target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled so the longer side is at most max_side; never enlarged.
    Integer arithmetic, rounded half up, so every machine gets the same size."""
    longer = max(width, height)
    if longer <= max_side:
        return width, height
    return (
        max(1, (width * max_side + longer // 2) // longer),
        max(1, (height * max_side + longer // 2) // longer),
    )


def _resize(rgb: Image.Image, max_side: int) -> Image.Image:
    size = target_size(rgb.width, rgb.height, max_side)
    if size == rgb.size:
        return rgb
    # Lanczos keeps the thin lines and small text of figures legible; reducing_gap lets
    # Pillow box-reduce large images first, which is faster at no visible cost.
    return rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _encode_jpeg(rgb: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # Baseline, optimised Huffman tables (about a fifth smaller at the same quality for a
    # few percent more time), no EXIF/ICC: the pixels are already oriented and in sRGB.
    rgb.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()
