"""The records that flow through the pipeline, and the status codes that account for them.

Data flows one way: ArticleRef (listed) -> Article with Figures (parsed) -> per-figure
records (staging) -> published pairs. Every article listed ends with exactly one
ArticleStatus and every figure seen ends with exactly one FigureStatus; the accounting
identity (docs/design.md, "Contracts") is checked over these.

Everything here is plain data (dataclasses, str codes) so that Beam can pickle it and
the tests can build it by hand.
"""

from __future__ import annotations

import enum
import re
from dataclasses import asdict, dataclass, field

# --- statuses and other codes -----------------------------------------------------------


class Codes(enum.StrEnum):
    """A set of string codes. Each member is a str in every respect, its repr included: it
    compares, hashes, formats and serialises (JSON, Parquet, log lines, sort keys) exactly
    as its value, so what is written and what is read back (a plain str) are the same. The
    class lists its codes: `list(ArticleStatus)`, `set(FigureStatus)`."""

    __repr__ = str.__repr__


class ArticleStatus(Codes):
    """The one final status of every article listed."""

    OK = "ok"  # fetched and parsed; its figures are accounted for by FigureStatus
    NO_FIGURES = "no_figures"  # parsed fine, but it has no figure with a graphic
    EXCLUDED = "excluded"  # a selection rule (reason: retracted, not_open_access, license..)
    FETCH_FAILED = "fetch_failed"  # network / store error after bounded retries
    PARSE_FAILED = "parse_failed"  # XML that cannot be read as a JATS article
    UNSAFE = "unsafe"  # refused: path traversal, bomb, oversize, entity expansion
    REMOVED = "removed"  # taken down at assemble time (retraction / takedown list)

    # Statuses that --retry-failed redoes: the failure may be transient (not a status).
    RETRYABLE = enum.nonmember((FETCH_FAILED,))


class FigureStatus(Codes):
    """The one final status of every figure seen (in an article with status OK)."""

    KEPT = "kept"  # published as a pair
    FILTERED = "filtered"  # a keep/drop rule (reason names it: min_side, aspect_ratio...)
    IMAGE_FAILED = "image_failed"  # no image file, unreadable or unsafe image
    DUPLICATE = "duplicate"  # same decoded pixels as duplicate_of
    NEAR_DUPLICATE = "near_duplicate"  # perceptual hash within threshold of duplicate_of
    CONTAMINATED = "contaminated"  # matches the decontamination hash list
    REMOVED = "removed"  # its article was removed at assemble time


class FigureKind(Codes):
    FIGURE = "figure"
    TABLE = "table"  # a <table-wrap> that exists only as an image


class GraphicRole(Codes):
    IMAGE = "image"  # the full-size image
    THUMB = "thumb"  # a thumbnail (cloud XML <alternatives>, legacy .gif)


class Layout(Codes):
    CLOUD = "cloud"
    LEGACY = "legacy"


# --- keys ---------------------------------------------------------------------------------

_PMCID_RE = re.compile(r"^(?:PMC)?(\d+)(?:\.(\d+))?$", re.IGNORECASE)


def normalize_pmcid(value: str) -> tuple[str, int | None]:
    """'PMC10009416.1' -> ('PMC10009416', 1); '10009416' -> ('PMC10009416', None)."""
    m = _PMCID_RE.match(value.strip())
    if not m:
        raise ValueError(f"not a PMCID: {value!r}")
    return f"PMC{int(m.group(1))}", (int(m.group(2)) if m.group(2) else None)


def article_key(pmcid: str, version: int | None) -> str:
    """Stable key prefix of an article version: 'PMC10009416v1' (no dots, see docs/design.md)."""
    return f"{pmcid}v{version}" if version is not None else pmcid


def figure_key(pmcid: str, version: int | None, index: int) -> str:
    """Stable key of a figure: 'PMC10009416v1_f003' for the 3rd figure (1-based, document
    order over figures and tables-as-images together)."""
    return f"{article_key(pmcid, version)}_f{index:03d}"


def article_key_of(figure_key_: str) -> str:
    """The article key a figure key starts with: 'PMC10009416v1_f003' -> 'PMC10009416v1'."""
    return figure_key_.rsplit("_f", 1)[0]


# --- what the sources list ----------------------------------------------------------------


@dataclass(frozen=True)
class ArticleRef:
    """One article version as a listing names it, before anything is fetched.

    `location` is layout specific: the cloud folder prefix ('PMC10009416.1/') or the legacy
    package path ('oa_package/08/e0/PMC13900.tar.gz'), relative to the root.
    """

    pmcid: str
    version: int | None
    layout: str
    location: str
    last_updated: str | None = None  # ISO 8601, from the inventory or the file list
    pmid: str | None = None
    citation: str | None = None
    license: str | None = None  # as the listing states it (normalised later)
    retracted: bool | None = None
    etag: str | None = None  # cloud inventory etag of the metadata object, for diffs

    @property
    def key(self) -> str:
        return article_key(self.pmcid, self.version)


# --- what the parser returns --------------------------------------------------------------


@dataclass
class License:
    code: str | None = None  # normalised: 'CC BY', 'CC BY-NC-ND', 'CC0', ... or None
    url: str | None = None
    text: str | None = None


@dataclass
class Graphic:
    href: str
    role: str = GraphicRole.IMAGE


@dataclass
class Figure:
    id: str | None
    index: int  # 1-based, document order over all figures and tables-as-images
    kind: str = FigureKind.FIGURE
    label: str | None = None
    title: str | None = None  # the caption's <title>, if any
    caption: str = ""  # the full caption text, title included
    placement: str = "body"  # body, floats-group, fig-group, boxed-text, app, sub-article
    parent_group: str | None = None  # id of the enclosing <fig-group>, if any
    graphics: list[Graphic] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    @property
    def image_href(self) -> str | None:
        """The href of the full image; a thumbnail only when nothing else exists."""
        for g in self.graphics:
            if g.role == GraphicRole.IMAGE:
                return g.href
        return self.graphics[0].href if self.graphics else None


@dataclass
class Article:
    pmcid: str | None = None
    version: int | None = None
    pmid: str | None = None
    doi: str | None = None
    title: str | None = None
    journal: str | None = None
    publisher: str | None = None
    year: int | None = None
    article_type: str | None = None
    license: License = field(default_factory=License)
    keywords: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class ParseError(Exception):
    """An article that cannot be parsed; the message is the recorded reason."""


class UnsafeInput(Exception):
    """Input refused before it costs memory or touches the file system."""


class FetchError(Exception):
    """A store or network failure after bounded retries; the message is the reason."""


class MissingFile(FetchError):
    """The object does not exist (404, no such key, no such package member)."""


class ListingError(Exception):
    """The listing of a root cannot be read completely and checked (a directory index page,
    file list, inventory or manifest that stays unreadable, damaged or incomplete after the
    retries). The build must stop: a partial listing would silently leave articles, or the
    retraction flags of a bulk list, out of the dataset. The message names where and what."""


class LayoutError(ListingError):
    """The root does not hold the layout asked for (a legacy root read as cloud, or the
    reverse, or neither layout at all); raised by Source.check_root before any listing."""
