"""How much memory decoding one figure image may take, and the per-process budget that
bounds the sum over the decodes running at once.

A decode is cheap in bytes in and dear in bytes out: a 687 kB PNG of 16-bit RGBA pixels
just under the pixel cap inflates to ~0.7 GB of pixels, and the working copies a pipeline
makes (flattening, colour conversion, transposition) multiply that. Extract runs several
article fetches in threads of one process, each decoding its figures, so without a bound a
few such files at once exhaust a worker.

`decode_estimate(...)` is an upper bound, in bytes, of what `images.process_image` holds
at its peak for one image: Pillow's pixel buffers (whose bytes per pixel depend on the mode:
16-bit and alpha count), the decoder's own scratch (a progressive JPEG's coefficients, a
TIFF strip, a WebP or JPEG 2000 frame buffer) and every working copy the pipeline makes.
`budget(capacity)` is the process-wide pool of that name: `reserve(n)` waits, first come
first served, until n bytes are free, so the decodes in flight never add up to more than
the capacity. tests/test_images_memory.py checks the estimate against the peak resident
memory actually measured, and the bound with several threads at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

DEFAULT_MEMORY_BUDGET = 1 << 30  # 1 GiB per process; see docs/filters.md
# After a decode that reserved at least this much, freed memory is handed back to the
# system before the reservation is (see release_freed_memory).
TRIM_AFTER_BYTES = 16 << 20

# Bytes per pixel of Pillow's storage by mode ("1" is stored a byte per pixel; every
# 3-band mode is stored as 4 bytes, with a pad byte).
_ONE_BYTE = {"1", "L", "P"}
_TWO_BYTES = {"I;16", "I;16L", "I;16B", "I;16N"}

# Fixed allowance per decode: Python objects, codec state, lcms's transform, imagehash's
# 32 x 32 floats; and per pixel of width, the rows a decoder keeps (a baseline JPEG's MCU
# rows, a PNG's previous and current row at up to 8 bytes a pixel).
_OVERHEAD = 4 << 20
_ROW_SCRATCH = 128
# The wide-to-8-bit conversion works in bands of this many pixels (see images._wide_to_l):
# a band's int64 temporaries and its crop, a few copies at 8 bytes a pixel.
WIDE_BAND_PIXELS = 1 << 18
_WIDE_BAND_BYTES = WIDE_BAND_PIXELS * 8 * 4


def storage_bytes(mode: str) -> int:
    """Bytes per pixel of a Pillow image in `mode`."""
    if mode in _ONE_BYTE:
        return 1
    if mode in _TWO_BYTES:
        return 2
    return 4


@dataclass(frozen=True)
class DecodeFacts:
    """What the header says about one image, and what the pipeline will do to it."""

    format: str  # Pillow's format name
    mode: str  # mode as decoded
    size: tuple[int, int]  # as stored, before any DCT scaling
    decoded_size: tuple[int, int]  # after JPEG draft scaling (== size otherwise)
    output_size: tuple[int, int]  # the published picture
    planes: float = 3.0  # components at full resolution (a 4:2:0 YCbCr JPEG has 1.5)
    progressive: bool = False  # a progressive JPEG keeps every coefficient in memory
    strip_bytes: int = 0  # TIFF: one strip or tile as libtiff reads it, at file depth
    file_bytes: int = 0  # the compressed input (the WebP plugin reads a copy of it)
    transposed: bool = False  # EXIF orientation other than 1: one transposed copy
    normalised_mode: str = "RGB"  # 'L' or 'RGB': the mode of the published picture
    copies: int = 0  # full-size images in the normalised mode made along the way
    extra_bytes_per_pixel: int = 0  # other full-size images, e.g. an RGBA copy to flatten
    wide: bool = False  # 16/32-bit or float grey, stretched in bands


def decode_estimate(f: DecodeFacts) -> int:
    """An upper bound of the bytes process_image holds at once for this image."""
    stored = f.size[0] * f.size[1]
    pixels = f.decoded_size[0] * f.decoded_size[1]
    decoded = pixels * storage_bytes(f.mode)
    scratch = f.decoded_size[0] * _ROW_SCRATCH  # a few rows at the file's depth
    if f.format == "TIFF":
        scratch += f.strip_bytes
    elif f.format == "JPEG" and f.progressive:
        scratch += int(stored * f.planes * 2)  # 16-bit coefficients, all of them
    elif f.format == "WEBP":
        # The file as read, libwebp's canvas and previous frame, the frame handed over
        scratch += f.file_bytes + pixels * 12
    elif f.format == "JPEG2000":
        scratch += int(stored * (f.planes + 1) * 4)  # openjpeg's 32-bit planes, tiles
    elif f.format == "GIF":
        scratch += pixels  # the frame and the canvas it is pasted on
    out_bpp = storage_bytes(f.normalised_mode)
    working = pixels * (f.extra_bytes_per_pixel + out_bpp * f.copies)
    if f.transposed:
        working = max(working, decoded)  # transposing happens before any conversion
    if f.wide:
        working += pixels + _WIDE_BAND_BYTES  # the 8-bit image, filled band by band
    out_w, out_h = f.output_size
    # Resizing: a box reduction (at most a quarter of the pixels), Pillow's horizontal
    # pass (output width x input height) and the output; encoding: libjpeg's coefficients
    # for optimised tables and Pillow's output buffer, 2 bytes per pixel each at most.
    resize = 0
    if f.output_size != f.decoded_size:
        resize = (pixels // 4 + out_w * f.decoded_size[1] + out_w * out_h) * out_bpp
    encode = out_w * out_h * 4 * (2 if out_bpp > 1 else 1)
    return decoded + scratch + working + resize + encode + _OVERHEAD


class DecodeBudget:
    """A pool of bytes shared by the threads of a process, handed out first come first
    served: a reservation that does not fit waits, and so do those behind it (a large
    image is never starved by a stream of small ones)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"memory budget must be >= 1 byte, got {capacity}")
        self.capacity = capacity
        self._in_use = 0
        self._peak = 0
        self._queue: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        """Hold `nbytes` of the budget for the duration of the block."""
        if nbytes > self.capacity:
            raise ValueError(f"{nbytes} bytes asked of a budget of {self.capacity}")
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or self._in_use + nbytes > self.capacity:
                    self._changed.wait()
            except BaseException:  # interrupted while waiting: leave the line
                self._queue.remove(ticket)
                self._changed.notify_all()
                raise
            self._queue.popleft()
            self._in_use += nbytes
            self._peak = max(self._peak, self._in_use)
            self._changed.notify_all()  # the next in line may fit as well
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= nbytes
                self._changed.notify_all()

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def peak(self) -> int:
        """The most bytes reserved at once since this budget was made."""
        return self._peak


_budgets: dict[int, DecodeBudget] = {}
_budgets_lock = threading.Lock()


def budget(capacity: int) -> DecodeBudget:
    """The process-wide budget of `capacity` bytes: every caller passing the same capacity
    (a build passes one) shares one pool."""
    with _budgets_lock:
        if capacity not in _budgets:
            _budgets[capacity] = DecodeBudget(capacity)
        return _budgets[capacity]


def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc: nothing to ask
        return None


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Hand memory the decode freed back to the system (glibc's malloc_trim).

    Without it, the budget bounds what decodes hold but not what the process keeps:
    glibc serves each thread from its own arena and, once a large block has been freed,
    keeps later ones of that size in the arena after they are freed. A thread that
    decodes next then grows the process while the previous thread's arena still holds
    its freed pixels (measured: three 16-bit RGBA PNGs under a 1 GiB budget, one at a
    time, peaked at 1.48 GB without the trim and 0.75 GB with it). A no-op where the C
    library has no malloc_trim; a microsecond when there is nothing to hand back.
    """
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
