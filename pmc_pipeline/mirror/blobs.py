"""Stand-ins for article PDFs and supplementary files: seeded, incompressible bytes of a
realistic size behind the right magic number.

Nothing reads their content; they exist so that fetching, package reading and storage
cost what they cost on real PMC data. Sizes are log-normal:
- PDF: median 450 kB, sigma 0.6 (mean about 540 kB), clipped to [40 kB, 8 MB];
- supplement: median 40 kB, sigma 1.2 (mean about 80 kB), clipped to [1 kB, 5 MB];
both multiplied by a scale option (tests use a small one).
"""

from __future__ import annotations

import math
import random

from pmc_pipeline.mirror.rng import np_rng_for

PDF_MEDIAN, PDF_SIGMA, PDF_RANGE = 450_000, 0.6, (40_000, 8_000_000)
SUPPLEMENT_MEDIAN, SUPPLEMENT_SIGMA, SUPPLEMENT_RANGE = 40_000, 1.2, (1_000, 5_000_000)
MIN_BYTES = 64  # even a scaled-down stand-in keeps its magic number and some body

# extension -> (weight, mimetype, mime-subtype, magic bytes at the start)
SUPPLEMENT_TYPES = {
    "xlsx": (
        30,
        "application",
        "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04",
    ),
    "docx": (
        30,
        "application",
        "vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    "pdf": (20, "application", "pdf", b"%PDF-1.7\n"),
    "csv": (8, "text", "csv", b""),
    "zip": (7, "application", "zip", b"PK\x03\x04"),
    "mp4": (5, "video", "mp4", b"\x00\x00\x00\x18ftypmp42"),
}


def _lognormal_size(
    rng: random.Random, median: int, sigma: float, bounds: tuple[int, int], scale: float
) -> int:
    size = min(bounds[1], max(bounds[0], round(median * math.exp(rng.gauss(0.0, sigma)))))
    return max(MIN_BYTES, round(size * scale))


def _incompressible(seed: int, parts: tuple, size: int) -> bytes:
    return np_rng_for(seed, "blob", *parts).bytes(size)


def pdf_bytes(seed: int, parts: tuple, rng: random.Random, scale: float) -> bytes:
    """A PDF stand-in: '%PDF-1.7' header, random body, '%%EOF' trailer."""
    size = _lognormal_size(rng, PDF_MEDIAN, PDF_SIGMA, PDF_RANGE, scale)
    head, tail = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\n%%EOF\n"
    return (
        head + _incompressible(seed, ("pdf", *parts), max(0, size - len(head) - len(tail))) + tail
    )


def choose_supplement_type(rng: random.Random) -> str:
    names = sorted(SUPPLEMENT_TYPES)
    return rng.choices(names, weights=[SUPPLEMENT_TYPES[n][0] for n in names], k=1)[0]


def supplement_bytes(
    seed: int, parts: tuple, extension: str, rng: random.Random, scale: float
) -> bytes:
    """A supplementary file stand-in of the given type (CSV is text: numbers)."""
    size = _lognormal_size(rng, SUPPLEMENT_MEDIAN, SUPPLEMENT_SIGMA, SUPPLEMENT_RANGE, scale)
    if extension == "csv":
        gen = np_rng_for(seed, "blob", "csv", *parts)
        rows = max(1, size // 24)
        values = gen.normal(10.0, 3.0, size=(rows, 3))
        lines = ["sample,value,error"] + [
            f"S{i + 1},{a:.4f},{abs(b):.4f}" for i, (a, b, _) in enumerate(values)
        ]
        return ("\n".join(lines) + "\n").encode("ascii")
    magic = SUPPLEMENT_TYPES[extension][3]
    return magic + _incompressible(seed, ("supplement", *parts), max(0, size - len(magic)))
