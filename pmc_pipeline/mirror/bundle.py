"""One article version as the generator hands it to a layout writer: its files and facts.

Synthetic (synthetic.py) and real (real.py) articles both become `VersionBundle`s; the
cloud and legacy writers only place them. `truth` is the version's entry of the truth file
(see docs/mirror.md), complete except for `location`, which the writer fills in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MediaFile:
    name: str  # the file name in the article folder / package directory
    data: bytes


@dataclass
class ArticleFacts:
    """What the listings and the cloud metadata JSON state about an article version."""

    pmid: int | None
    doi: str | None
    mid: str | None
    title: str | None
    citation: str | None
    open_access: bool
    manuscript: bool
    historical_ocr: bool
    retracted: bool
    license_code: str | None  # as PMC lists it ('CC BY', 'NO-CC CODE'); None if unknown


@dataclass
class VersionBundle:
    pmcid: str
    version: int
    latest: bool
    updated: str  # last modified, ISO 8601 UTC ('2026-03-14T12:34:56Z')
    xml: bytes
    stem: str  # publisher's article file stem: legacy '<stem>.nxml' and '<stem>.pdf'
    text: str  # plain text of the article (the cloud '.txt')
    pdf: bytes | None
    media: list[MediaFile]  # images, thumbnails, supplements; each name once
    facts: ArticleFacts
    truth: dict
    # (figure key, 64-bit perceptual hash) of each decodable full-size image, so the
    # writer of the truth file can find images that look alike by accident.
    phashes: list[tuple[str, int]] = field(default_factory=list)
