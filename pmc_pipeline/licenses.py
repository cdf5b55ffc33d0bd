"""Normalised licence codes.

PMC states an article's licence in several shapes: the cloud metadata's `license_code`
('CC BY', 'CC BY-NC-ND', 'CC0'), the legacy file list's License column (also 'NO-CC CODE'),
a Creative Commons URL in JATS `<license xlink:href>` or `<ali:license_ref>`, a
`license-type` attribute ('cc-by', 'open-access'), or only prose in `<license-p>`.
`normalize_license` maps all of them onto one code so that a licence allowlist can be
applied the same way whatever the layout.
"""

from __future__ import annotations

import re

CODES = (
    "CC0",
    "CC BY",
    "CC BY-SA",
    "CC BY-ND",
    "CC BY-NC",
    "CC BY-NC-SA",
    "CC BY-NC-ND",
    "PD",  # public domain (US government works and the like)
    "NO-CC CODE",  # PMC's code for 'open access, but under no Creative Commons licence'
)

# Licences that allow commercial reuse; the usual allowlist for a redistributable dataset.
COMMERCIAL_USE = ("CC0", "CC BY", "CC BY-SA", "CC BY-ND", "PD")

_CC_URL = re.compile(r"creativecommons\.org/licen[cs]es/([a-z-]+)/", re.IGNORECASE)
_CC_ZERO = re.compile(r"creativecommons\.org/publicdomain/(zero|mark)", re.IGNORECASE)
_CODE = re.compile(
    r"^\s*(?:cc[\s_-]*)?(by(?:[\s_-]*(?:nc|nd|sa))*)\s*(?:[\d.]+)?\s*$", re.IGNORECASE
)
_PROSE_PARTS = (
    ("noncommercial", "NC"),
    ("non-commercial", "NC"),
    ("sharealike", "SA"),
    ("share alike", "SA"),
    ("share-alike", "SA"),
    ("noderivatives", "ND"),
    ("noderivs", "ND"),
    ("no derivatives", "ND"),
    ("no-derivatives", "ND"),
)


def _from_parts(parts: list[str]) -> str:
    # Canonical order as PMC and Creative Commons write it: BY, NC, then SA or ND.
    order = {"BY": 0, "NC": 1, "SA": 2, "ND": 2}
    uniq = sorted({p.upper() for p in parts if p}, key=lambda p: order.get(p, 9))
    return "CC " + "-".join(uniq)


def normalize_license(value: str | None) -> str | None:
    """A normalised code from any licence statement, or None when it names none we know."""
    if not value:
        return None
    text = " ".join(value.split())
    upper = text.upper()
    if upper in CODES:
        return upper
    if upper in ("CC-0", "CC ZERO", "CC0 1.0", "PUBLIC-DOMAIN", "PUBLIC DOMAIN"):
        return "CC0" if "CC" in upper else "PD"
    if upper in ("NO-CC", "NO CC CODE", "NO-CC-CODE"):
        return "NO-CC CODE"
    # A licence URL names the article's licence; a CC0 URL next to it is usually BMC's
    # waiver for the data only ('... Public Domain Dedication waiver applies to the data').
    m = _CC_URL.search(text)
    if m:
        return _from_parts(m.group(1).split("-"))
    if _CC_ZERO.search(text):
        return "CC0"
    m = _CODE.match(text)
    if m:
        return _from_parts(re.split(r"[\s_-]+", m.group(1)))
    lower = text.lower()
    if "creative commons" in lower or "creativecommons" in lower:
        if "attribution" in lower or "cc by" in lower or "cc-by" in lower:
            return _from_parts(["BY"] + [code for word, code in _PROSE_PARTS if word in lower])
        if "cc0" in lower or "public domain dedication" in lower or "zero" in lower:
            return "CC0"
    m = re.search(r"\bCC[\s-]?(BY(?:-(?:NC|ND|SA))*)\b", text)
    if m:
        return _from_parts(m.group(1).split("-"))
    return None


def license_allowlist(values) -> frozenset[str]:
    """Normalised codes of an allowlist ('cc-by', 'CC BY 4.0' -> 'CC BY'). Raises ValueError
    on an entry that names no licence we know, so that a typo cannot empty a build."""
    if isinstance(values, str):
        raise TypeError("licenses must be a collection of codes, not one string")
    codes = set()
    for value in values:
        code = normalize_license(value)
        if code is None:
            raise ValueError(f"unknown licence {value!r}; known codes: {', '.join(CODES)}")
        codes.add(code)
    return frozenset(codes)
