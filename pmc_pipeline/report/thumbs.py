"""Thumbnails: the small JPEGs the card shows instead of the published images.

Inputs are the build's own JPEGs (at most --max-side px), but they are read back from
storage, so a file that is not a JPEG, claims far more pixels than a build writes, or is
corrupt is refused with ThumbnailError before it is decoded, and the card shows why.
"""

from __future__ import annotations

import io

from PIL import Image

THUMB_SIDE = 256
THUMB_QUALITY = 85
# A build writes at most --max-side px per side (1024 by default); 16 Mpx leaves room for a
# larger --max-side and refuses a header that claims a decompression bomb.
MAX_PIXELS = 4096 * 4096


class ThumbnailError(Exception):
    """Bytes that give no thumbnail; the message says why."""


def thumbnail(jpeg: bytes, side: int = THUMB_SIDE) -> bytes:
    """A JPEG whose longer side is at most `side` px (never upscaled)."""
    try:
        with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ThumbnailError(f"{im.width}x{im.height} px is over {MAX_PIXELS} pixels")
            # Let the JPEG decoder scale by 1/2..1/8 on the fly: most of the work saved.
            im.draft("RGB", (side, side))
            rgb = im.convert("RGB")
    except ThumbnailError:
        raise
    # Pillow reports bad bytes in several ways (UnidentifiedImageError is an OSError).
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"unreadable JPEG ({exc})") from exc
    rgb.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return out.getvalue()
