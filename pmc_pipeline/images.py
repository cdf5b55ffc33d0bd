"""Figure images: decode, validate, normalise, resize, encode as JPEG, hash.

`process_image(data)` turns the bytes of one figure file (whatever PMC holds: JPEG, PNG,
GIF, TIFF, ...) into a `ProcessedImage`: a baseline JPEG whose longer side is at most
`max_side`, plus what dedupe and the sidecar need (original size and format, the sha256 of
the published JPEG, a perceptual hash). Bad or unsafe bytes raise `ImageError` with a
short reason code and never anything else, so the caller can record a figure status and
go on.

The steps, in order, and why:
1. Refuse empty input; open the header only, from an allowlist of raster formats (EPS
   would run Ghostscript, and nothing in PMC's figure set needs it).
2. Refuse a pixel count above `max_pixels` before decoding: the header states the size, and
   a 44-byte GIF can claim 4 gigapixels.
3. Pass through: a baseline JPEG in grey or sRGB, upright and within `max_side`, is
   published as it came, less its metadata (jpeg_segments.strip_metadata): no quality
   lost, no encode paid. It is still decoded in full (at 1/8 scale, which reads every
   coded bit), so a truncated or corrupt file is refused as any other.
4. Otherwise reserve the decode's estimated peak memory from the process's budget
   (image_memory: an image whose estimate alone is over the budget is refused, never
   decoded), decode the first frame (a JPEG at the smallest DCT scale that still covers
   the output size) and apply the EXIF orientation.
5. Normalise to 8-bit grey or RGB: colour-manage a non-sRGB ICC profile to sRGB, flatten
   transparency on white (a page is white), stretch 16-bit / 32-bit / float greys to 8 bits.
6. Resize (Lanczos, never up) and encode a baseline JPEG without metadata.
7. Hash: `pixel_sha256` is the sha256 of the published JPEG (the exact-dedupe key), `phash`
   the 64-bit perceptual hash of the published picture.

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
from typing import TYPE_CHECKING, cast

import imagehash
import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps

from pmc_pipeline import image_memory
from pmc_pipeline.image_memory import DEFAULT_MEMORY_BUDGET, DecodeFacts, decode_estimate
from pmc_pipeline.jpeg_segments import strip_metadata

if TYPE_CHECKING:
    from PIL.JpegImagePlugin import JpegImageFile
    from PIL.TiffImagePlugin import TiffImageFile

# Reason codes of ImageError (recorded as the figure's status reason).
EMPTY = "empty"  # no bytes, or an image with a zero side
UNDECODABLE = "undecodable"  # not an image in an allowed format, or corrupt data
TRUNCATED = "truncated"  # the file ends before the pixel data does
DECOMPRESSION_BOMB = "decompression_bomb"  # declared size over max_pixels; PNG text bomb
MEMORY_BUDGET = "memory_budget"  # decoding it would take more than the whole budget
UNSUPPORTED_MODE = "unsupported_mode"  # a pixel mode we cannot turn into RGB
REASONS = (EMPTY, UNDECODABLE, TRUNCATED, DECOMPRESSION_BOMB, MEMORY_BUDGET, UNSUPPORTED_MODE)

# Pillow's own warning limit (89,478,485 pixels, about 0.25 GiB as RGB): far above any real
# PMC figure. Memory is bounded separately, in bytes, by the memory budget.
DEFAULT_MAX_PIXELS = 89_478_485
DEFAULT_MAX_SIDE = 1024
DEFAULT_QUALITY = 95
# Bumped whenever a change here can change the JPEG, sizes or hashes of some image: staging
# records it, and a build refuses staging processed by another version (ledger.py).
IMAGE_VERSION = 2

# Raster formats a PMC figure comes in. Anything else is refused as undecodable; notably
# EPS/PS, which Pillow renders by running Ghostscript on the input.
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "TIFF", "BMP", "WEBP", "JPEG2000")

# Resizing: Pillow first box-reduces by whole factors while that leaves at least this many
# times the output size, then resamples with Lanczos. Pillow's guidance: 2 to 3 is close
# to fair resampling. 1.5 halves the cost of a 2x-4x reduction for a little sharpness
# (bench image states the quality against an exact Lanczos resize and img2dataset's).
# JPEGs are instead decoded at the smallest DCT scale that covers the output (1/2 .. 1/8),
# which is both faster and closer to the exact resize than a box reduction.
RESIZE_REDUCING_GAP = 1.5
# The perceptual hash is taken of the picture box-reduced to a short side of at least
# this many pixels: imagehash.phash then resamples to 32 x 32 from a small image, not from
# a megapixel one, and the hash does not change with how large the published picture is.
PHASH_SIDE = 64

_WHITE = 255
# Modes Pillow converts to RGB correctly by itself; _GREY_MODES become 8-bit grey.
_DIRECT_MODES = {"1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
_GREY_MODES = {"1", "L", "LA"}
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
    """One figure image as published; see the module docstring."""

    jpeg: bytes = field(repr=False)  # baseline JPEG: 1 channel for grey pictures, else RGB
    width: int  # after resize
    height: int
    orig_width: int  # after EXIF orientation, before resize
    orig_height: int
    orig_format: str  # Pillow's format name: 'JPEG', 'PNG', 'GIF', 'TIFF', ...
    orig_mode: str  # Pillow's mode as decoded: 'RGB', 'L', 'P', 'CMYK', 'I;16', ...
    pixel_sha256: str  # hex sha256 of the published JPEG (exact-dedupe key; docs/filters.md)
    phash: str  # 16 hex digits: imagehash.phash of the published picture, 64 bits
    passed_through: bool = field(default=False, repr=False)  # the input's own JPEG data

    def to_metadata(self) -> dict:
        """Everything but the JPEG bytes, for the sample's JSON sidecar and Parquet row."""
        meta = asdict(self)
        del meta["jpeg"], meta["passed_through"]
        return meta


def process_image(
    data: bytes,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    quality: int = DEFAULT_QUALITY,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> ProcessedImage:
    """Decode, validate, normalise, resize and encode one figure image.

    Raises ImageError (and nothing else) for bytes that are not a usable image; raises
    ValueError for invalid options, which is a caller's bug rather than bad input.
    Pillow refuses on its own anything over 2 x Image.MAX_IMAGE_PIXELS, so a max_pixels
    above that needs Image.MAX_IMAGE_PIXELS raised as well. `memory_budget` (bytes) is
    shared by every call in the process that passes the same value: see image_memory.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels}")
    budget = image_memory.budget(memory_budget)  # ValueError for a budget below 1
    if not data:
        raise ImageError(EMPTY, "no bytes")

    with _opened(data, max_pixels) as im:
        with _bad_input():
            plan = _plan(im, data, max_side)
        if plan.estimate > budget.capacity:
            width, height = plan.stored
            raise ImageError(
                MEMORY_BUDGET,
                f"{width}x{height} {plan.orig_mode} {plan.orig_format} needs about "
                f"{plan.estimate} bytes to decode > budget {budget.capacity}",
            )
        with budget.reserve(plan.estimate):
            try:
                return _publish(im, plan, max_side, quality, max_pixels)
            finally:
                im.close()  # the pixels go before the reservation does
                if plan.estimate >= image_memory.TRIM_AFTER_BYTES:
                    image_memory.release_freed_memory()


def memory_estimate(
    data: bytes, *, max_side: int = DEFAULT_MAX_SIDE, max_pixels: int = DEFAULT_MAX_PIXELS
) -> int:
    """The bytes process_image reserves from the memory budget to process `data`."""
    with _opened(data, max_pixels) as im, _bad_input():
        return _plan(im, data, max_side).estimate


@dataclass(frozen=True)
class _Plan:
    """What the header of an image decides before any pixel is decoded."""

    orig_format: str
    orig_mode: str
    stored: tuple[int, int]  # size as stored: before EXIF orientation and DCT scaling
    stripped: bytes | None  # the JPEG to publish as it came, when it passes through
    estimate: int  # bytes to reserve from the memory budget


def _plan(im: Image.Image, data: bytes, max_side: int) -> _Plan:
    """Decide pass-through or not, set the JPEG DCT scale (`im` is drafted in place) and
    estimate the memory the rest will take."""
    stored, orig_mode = im.size, im.mode
    stripped = _pass_through_bytes(im, data, max_side)
    if stripped is not None:
        _draft_for_phash(im)
    elif im.format == "JPEG":
        im.draft(None, target_size(*stored, max_side))  # a no-op unless 2x or more
    estimate = decode_estimate(_facts(im, stored, data, max_side, orig_mode))
    return _Plan(im.format or "", orig_mode, stored, stripped, estimate)


def _publish(
    im: Image.Image, plan: _Plan, max_side: int, quality: int, max_pixels: int
) -> ProcessedImage:
    """Decode `im` and make what is published. Every image made here is gone when this
    returns, while the caller still holds the memory reservation."""
    with _bad_input():
        orientation = _load(im, max_pixels)
        picture = im if plan.stripped is not None else _normalised(im)
    orig_width, orig_height = im.size  # upright, as decoded
    if im.format == "JPEG":  # perhaps decoded at a reduced DCT scale: the header's size
        orig_width, orig_height = plan.stored
        if orientation in _TRANSPOSING:
            orig_width, orig_height = orig_height, orig_width
    if plan.stripped is None:
        picture = _resize(picture, orig_width, orig_height, max_side)
    jpeg = plan.stripped if plan.stripped is not None else _encode_jpeg(picture, quality)
    return ProcessedImage(
        jpeg=jpeg,
        width=picture.width if plan.stripped is None else orig_width,
        height=picture.height if plan.stripped is None else orig_height,
        orig_width=orig_width,
        orig_height=orig_height,
        orig_format=plan.orig_format,
        orig_mode=plan.orig_mode,
        pixel_sha256=hashlib.sha256(jpeg).hexdigest(),
        phash=_phash(picture),
        passed_through=plan.stripped is not None,
    )


# --- open and decode ----------------------------------------------------------------------


@contextmanager
def _opened(data: bytes, max_pixels: int) -> Iterator[Image.Image]:
    """`data` opened (header only) with its declared size checked; closed on exit."""
    with _bad_input():
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    try:
        with _bad_input():
            _check_size(image.size, max_pixels)  # from the header, before any decoding
        yield image
    finally:
        image.close()


@contextmanager
def _bad_input() -> Iterator[None]:
    """Whatever Pillow raises on a bad file, as an ImageError with its reason.

    Pillow signals bad input in many ways (UnidentifiedImageError, OSError for truncated
    or corrupt streams, ValueError, SyntaxError, struct.error, IndexError... from its
    format plugins and converters on crafted files), so every step that reads the input
    runs in this block and nothing else escapes. Our own max_pixels check replaces
    Pillow's bomb warning; its error (at twice its limit) still fires and is mapped to the
    same reason. A corrupt EXIF block is harmless: the orientation is then simply absent.
    (catch_warnings swaps a process-wide filter list; a concurrent thread can at worst see
    these two warnings unsilenced, never a different result.)
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", "Corrupt EXIF data", UserWarning)
            yield
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(_reason_of(exc), f"{type(exc).__name__}: {exc}") from exc


def _load(image: Image.Image, max_pixels: int) -> int:
    """Decode the pixels and turn them upright; the EXIF orientation that was applied."""
    image.load()
    _check_size(image.size, max_pixels)  # a GIF frame may have grown the canvas
    orientation = _orientation(image)
    ImageOps.exif_transpose(image, in_place=True)
    return orientation


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


_TRANSPOSING = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation exif_transpose will apply, 1 when it will do nothing.

    Before the pixels are loaded, ask only of a JPEG, a TIFF or a WebP, which have read
    their EXIF with the header: Pillow decodes a whole PNG to look for an eXIf chunk
    after the pixel data."""
    value = im.getexif().get(ExifTags.Base.Orientation, 1)
    return value if value in range(2, 9) else 1


# --- pass-through -------------------------------------------------------------------------


def _pass_through_bytes(im: Image.Image, data: bytes, max_side: int) -> bytes | None:
    """The JPEG to publish as it came (less metadata), or None when it needs re-encoding:
    not a baseline JPEG, CMYK, larger than max_side, turned by EXIF, or in a colour space
    that must be converted to sRGB."""
    if im.format != "JPEG" or im.mode not in ("L", "RGB") or max(im.size) > max_side:
        return None
    if im.info.get("progressive") or im.info.get("progression") or _orientation(im) != 1:
        return None
    icc = im.info.get("icc_profile")
    if im.mode == "RGB" and icc and _transform_to_srgb(icc, "RGB") is not None:
        return None
    return strip_metadata(data)


def _draft_for_phash(im: Image.Image) -> None:
    """Decode only what the perceptual hash needs: luma, at the DCT scale (1/2 .. 1/8) that
    keeps the short side at least 4 x PHASH_SIDE. Every coded bit is still read. (At 1/8,
    the mean of each 8 x 8 block, two different real figures in the fixtures came within
    the near-duplicate threshold: the hash needs the box reduction _phash makes.)"""
    scale = max(1, min(im.size) // (4 * PHASH_SIDE))
    im.draft("L", (max(1, im.width // scale), max(1, im.height // scale)))


# --- normalise ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Normalisation:
    """How a decoded image becomes 8-bit grey or RGB, and the full-size copies made."""

    kind: str  # 'as_is', 'convert', 'icc', 'flatten', 'wide'
    mode: str  # 'L' or 'RGB'
    copies: int = 0  # full-size images in `mode` made along the way
    extra_bytes_per_pixel: int = 0  # other full-size images (an RGBA copy, say)


def _normalisation(im: Image.Image) -> _Normalisation:
    """The plan for `im`; `_normalised` carries it out and image_memory counts its cost."""
    mode = im.mode
    if mode in _WIDE_MODES:
        return _Normalisation("wide", "L")
    if mode in _ALPHA_MODES or (mode in _DIRECT_MODES and "transparency" in im.info):
        # P/L/RGB with a tRNS entry (palette index, grey level or colour key) too. The
        # white page, and an LA/RGBA copy unless the image is that already; pasting LA on
        # a grey page makes a grey copy of the source as well.
        if mode in _GREY_MODES:
            extra = (0 if mode == "LA" else 4) + 1
            return _Normalisation("flatten", "L", copies=1, extra_bytes_per_pixel=extra)
        extra = 0 if mode == "RGBA" else 4
        return _Normalisation("flatten", "RGB", copies=1, extra_bytes_per_pixel=extra)
    if mode in ("RGB", "CMYK") and _icc_transform(im) is not None:
        return _Normalisation("icc", "RGB", copies=1)
    if mode in ("RGB", "L"):
        return _Normalisation("as_is", mode)
    if mode in _DIRECT_MODES:
        target = "L" if mode in _GREY_MODES else "RGB"
        return _Normalisation("convert", target, copies=1)
    raise ImageError(UNSUPPORTED_MODE, f"mode {mode}")


def _normalised(im: Image.Image) -> Image.Image:
    """8-bit grey or RGB, transparency flattened on white, colours in sRGB (`im` itself when
    it is that already)."""
    plan = _normalisation(im)
    if plan.kind == "wide":
        return _wide_to_l(im)
    if plan.kind == "flatten":
        return _flatten_on_white(im, plan.mode)
    if plan.kind == "icc":
        managed = _apply_icc(im)
        if managed is not None:
            return managed
        return im if im.mode == "RGB" else im.convert("RGB")
    if plan.kind == "convert":
        return im.convert(plan.mode)
    return im


def _flatten_on_white(im: Image.Image, mode: str) -> Image.Image:
    with_alpha = im if im.mode == mode + "A" else im.convert(mode + "A")
    page = Image.new(mode, im.size, _WHITE if mode == "L" else (_WHITE,) * 3)
    page.paste(with_alpha, mask=with_alpha)  # the alpha band of the mask is used
    return page


def _wide_to_l(im: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or float grey image as 8-bit 'L'.

    Integer images whose values already fit 0..255 keep them; otherwise the value range
    [min, max] is stretched linearly onto 0..255 (how ImageJ and most viewers first show a
    scientific image: 12-bit microscopy in a 16-bit container would be near black if
    simply shifted right by 8 bits, and Pillow's own convert clips it all to white).
    NaN and infinities in float images become black. A grey level marked transparent
    (PNG tRNS) becomes white, as with the other flattened modes.

    The work is done in bands of rows (image_memory.WIDE_BAND_PIXELS pixels), so the
    numpy temporaries stay small whatever the size of the image.
    """
    bands = list(_row_bands(im))
    is_float = im.mode == "F"
    lo, hi = None, None
    for box in bands:
        values = np.asarray(im.crop(box))
        if is_float:
            values = values[np.isfinite(values)]
            if not values.size:
                continue
        band_lo, band_hi = values.min(), values.max()
        lo = band_lo if lo is None else min(lo, band_lo)
        hi = band_hi if hi is None else max(hi, band_hi)
    transparent = None if is_float else im.info.get("transparency")
    out = Image.new("L", im.size)
    for box in bands:
        raw = np.asarray(im.crop(box))
        if is_float:
            grey = _stretch_float(raw, lo, hi)
        else:
            # lo, hi are set: an integer band always has values
            grey = _stretch_int(raw.astype(np.int64), int(cast(int, lo)), int(cast(int, hi)))
            if isinstance(transparent, int):
                grey[raw == transparent] = _WHITE
        out.paste(Image.fromarray(grey), box[:2])  # uint8, 2-D: mode L
    return out


def _row_bands(im: Image.Image) -> Iterator[tuple[int, int, int, int]]:
    rows = max(1, image_memory.WIDE_BAND_PIXELS // im.width)
    for top in range(0, im.height, rows):
        yield (0, top, im.width, min(im.height, top + rows))


def _stretch_int(values: np.ndarray, lo: int, hi: int) -> np.ndarray:
    if lo >= 0 and hi <= 255:
        return values.astype(np.uint8)
    # Integer arithmetic rounded half up: exact on every machine. hi > lo here, since a
    # constant image outside 0..255 cannot also fit inside it.
    return (((values - lo) * 255 + (hi - lo) // 2) // (hi - lo)).astype(np.uint8)


def _stretch_float(values: np.ndarray, lo: float | None, hi: float | None) -> np.ndarray:
    finite = np.isfinite(values)
    if lo is None or hi is None:  # no finite value anywhere
        return np.zeros(values.shape, dtype=np.uint8)
    values = np.where(finite, values, 0.0).astype(np.float64)
    lo, hi = float(lo), float(hi)
    if hi == lo:
        out = np.full(values.shape, min(max(round(lo), 0), 255), dtype=np.float64)
    else:
        out = np.rint((values - lo) * (255.0 / (hi - lo)))
    out[~finite] = 0
    return np.clip(out, 0, 255).astype(np.uint8)


def _icc_transform(im: Image.Image) -> ImageCms.ImageCmsTransform | None:
    """The transform of `im`'s embedded ICC profile to sRGB; None when it has no profile,
    an sRGB one (the common case in PMC: nothing to do), or one that lcms cannot use (the
    pixels are then taken as they are)."""
    icc = im.info.get("icc_profile")
    return _transform_to_srgb(icc, im.mode) if icc else None


def _apply_icc(im: Image.Image) -> Image.Image | None:
    transform = _icc_transform(im)
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


# --- memory -------------------------------------------------------------------------------


def _facts(
    im: Image.Image, stored: tuple[int, int], data: bytes, max_side: int, orig_mode: str
) -> DecodeFacts:
    """What image_memory needs to bound the decode of `im` (opened, possibly drafted;
    `stored` is its size before drafting)."""
    # A PNG's orientation is known only once it is decoded (see _orientation): assume it
    # turns the picture when the file holds an eXIf chunk, or those four bytes anywhere.
    if im.format == "PNG":
        transposed = b"eXIf" in data
    else:
        transposed = _orientation(im) != 1
    plan = _normalisation(im)
    return DecodeFacts(
        format=im.format or "",
        mode=im.mode,
        size=stored,
        decoded_size=im.size,
        output_size=target_size(*im.size, max_side),
        planes=_planes(im, orig_mode),
        progressive=bool(im.info.get("progressive") or im.info.get("progression")),
        strip_bytes=_tiff_strip_bytes(im),
        file_bytes=len(data),
        transposed=transposed,
        normalised_mode=plan.mode,
        copies=plan.copies,
        extra_bytes_per_pixel=plan.extra_bytes_per_pixel,
        wide=plan.kind == "wide",
    )


def _planes(im: Image.Image, mode: str) -> float:
    """Components at full resolution: a JPEG's chroma may be subsampled."""
    layers = cast("JpegImageFile", im).layer if im.format == "JPEG" else None
    if not layers:
        return float(Image.getmodebands(mode))
    h_max = max(h for _, h, _, _ in layers)
    v_max = max(v for _, _, v, _ in layers)
    return sum(h * v for _, h, v, _ in layers) / (h_max * v_max)


def _tiff_strip_bytes(im: Image.Image) -> int:
    """One strip or tile as libtiff hands it to Pillow (at the file's depth, or as RGBA
    when Pillow asks libtiff for that): the decoder's buffer. Pillow reads uncompressed
    TIFFs itself, straight into the image."""
    if im.format != "TIFF" or im.info.get("compression", "raw") == "raw":
        return 0
    tags = cast("TiffImageFile", im).tag_v2
    width, height = im.size
    bits = tags.get(258, (8,))
    bits_per_pixel = sum(bits) if isinstance(bits, tuple) else bits * tags.get(277, 1)
    if 322 in tags and 323 in tags:  # TileWidth, TileLength
        tile_w, rows = int(tags[322]), int(tags[323])
    else:
        tile_w, rows = width, min(height, int(tags.get(278, height)))  # RowsPerStrip
    return tile_w * rows * max(4, (bits_per_pixel + 7) // 8)


# --- resize, encode, hash -----------------------------------------------------------------


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


def _resize(picture: Image.Image, orig_width: int, orig_height: int, max_side: int) -> Image.Image:
    # The output size comes from the original size, not from a JPEG decoded at a reduced
    # DCT scale, so it does not depend on how the file was decoded.
    size = target_size(orig_width, orig_height, max_side)
    if size == picture.size:
        return picture
    # Lanczos keeps the thin lines and small text of figures legible.
    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=RESIZE_REDUCING_GAP)


def _encode_jpeg(picture: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    # Baseline, optimised Huffman tables (smaller files at the same quality for a little
    # more time), no EXIF/ICC: the pixels are already oriented and in sRGB.
    picture.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _phash(picture: Image.Image) -> str:
    factor = min(picture.size) // PHASH_SIDE
    small = picture.reduce(factor) if factor > 1 else picture
    return str(imagehash.phash(small))
