"""A baseline JPEG's segments: publish the file as it came, less its metadata.

`strip_metadata(data)` returns the same JPEG without EXIF, XMP, ICC profiles, Photoshop
blocks, comments or bytes after the end of the image, when the file is a single-scan
baseline JPEG whose structure it can vouch for; otherwise None, and the caller re-encodes.
What it keeps is everything a decoder reads to produce the pixels: the frame header (SOF0),
quantisation and Huffman tables, the restart interval, the JFIF header and Adobe's APP14
(which says whether three components are YCbCr or RGB), and the scan itself, byte for
byte. So the output decodes to exactly the pixels of the input.
"""

from __future__ import annotations

import re

_EOI, _SOS = 0xD9, 0xDA
_SOF0 = 0xC0  # baseline DCT; every other SOF (progressive, extended, lossless,
# arithmetic, hierarchical) is not what the published JPEGs promise
_TABLES = {0xC4, 0xDB, 0xDD}  # DHT, DQT, DRI
_APP0, _APP14 = 0xE0, 0xEE
_METADATA = set(range(0xE1, 0xEE)) | {0xEF, 0xFE}  # APP1..APP13, APP15, COM
# In entropy-coded data a 0xFF byte is followed by 0x00 (a stuffed byte), a restart marker
# or another 0xFF (fill); anything else is a marker.
_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def strip_metadata(data: bytes) -> bytes | None:
    """`data` without its metadata segments, or None when it is not a single-scan baseline
    JPEG with a header this function understands."""
    if data[:2] != b"\xff\xd8":
        return None
    out = [b"\xff\xd8"]
    pos, frames = 2, 0
    while True:
        while pos < len(data) and data[pos : pos + 2] == b"\xff\xff":
            pos += 1  # fill bytes before a marker
        if pos + 4 > len(data) or data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            return None
        segment = data[pos:end]
        if marker == _SOS:
            if frames != 1:
                return None
            scan_end = _end_of_scan(data, end)
            if scan_end is None:
                return None
            out.append(data[pos:scan_end])
            return b"".join(out)
        if marker == _SOF0:
            frames += 1
            out.append(segment)
        elif marker in _TABLES or marker == _APP14:
            out.append(segment)
        elif marker == _APP0:
            if segment[4:9] == b"JFIF\0":  # JFXX and others are thumbnails: metadata
                out.append(segment)
        elif marker not in _METADATA:
            return None  # another frame type, arithmetic coding, a stray marker...
        pos = end


def _end_of_scan(data: bytes, pos: int) -> int | None:
    """Where the entropy-coded data starting at `pos` ends, just after its EOI; None when
    another marker than a restart comes first (a second scan, tables between scans)."""
    found = _MARKER_IN_SCAN.search(data, pos)
    if found is None or data[found.start() + 1] != _EOI:
        return None
    return found.end()
