"""What each synthetic article is: drawn from the seed and the article's index alone.

`article_header(seed, i)` draws the article-level facts (identifiers, journal, licence,
flags, versions, how many figures). `figure_drafts(seed, header)` draws each figure slot
(kind, placement, role, picture, encoding) and puts them in document order. Both are cheap
(no drawing), so a figure that duplicates an image of an earlier article can look its
source up by re-drawing that article's plan: `resolve_sources` does that, and only ever
reads other articles' drafts, never their resolved plans, so there is no recursion and
article i never depends on the order in which articles are generated.

The proportions are constants below (and in vocab.py); docs/mirror.md lists them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pmc_pipeline.mirror.drawing import VisualSpec
from pmc_pipeline.mirror.images import NEAR_TRANSFORMS, Encoding
from pmc_pipeline.mirror.rng import chance, derive_int, rng_for, weighted
from pmc_pipeline.mirror.vocab import (
    ARTICLE_TYPES,
    FLUOR_COLORS,
    JOURNALS,
    LICENSES,
    PLOT_COLORS,
    SHAPES,
    VISUAL_KINDS,
    Journal,
)

# --- article-level proportions ------------------------------------------------------------

P_RETRACTED = 0.015
P_MANUSCRIPT = 0.06  # author manuscripts (is_manuscript, an NIHMS mid)
P_NOT_OA_MANUSCRIPT = 0.5  # of manuscripts, those outside the open access subset
P_NOT_OA_OTHER = 0.01
P_HISTORICAL_OCR = 0.01  # scanned back issues: a PDF, no figures
P_NO_PDF = 0.04
P_FLOATS_LAYOUT = 0.2  # all figures in <floats-group>, as PMC's own conversions do
P_FIG_GROUP = 0.15  # articles with one <fig-group> of 2-3 consecutive figures
P_PMID = 0.88
P_UPDATED_ON_SNAPSHOT_DAY = 0.02  # missing from the previous day's inventory
VERSIONS = ((1, 93), (2, 6), (3, 1))
SUPPLEMENTS = ((0, 55), (1, 25), (2, 12), (3, 8))
LICENSE_STYLES = (("href", 50), ("ali", 25), ("prose", 25))  # how <license> states a CC licence

# Figure counts by article type: (probability of none, largest count).
FIGURE_COUNTS = {
    "research-article": (0.04, 12),
    "review-article": (0.2, 6),
    "case-report": (0.1, 4),
    "brief-report": (0.15, 3),
    "editorial": (0.7, 2),
    "letter": (0.7, 2),
    "correction": (1.0, 0),
    "other": (0.5, 3),
}

# --- figure-level proportions -------------------------------------------------------------

P_TABLE = 0.08  # a <table-wrap> that exists only as an image
P_BOXED_TEXT = 0.03
P_APP = 0.05
P_SUB_ARTICLE = 0.02
P_NO_LABEL = 0.05
P_NO_CAPTION = 0.04
P_MISNAMED = 0.02  # of PNG originals: PNG bytes in a file named .jpg
FIGURE_ROLES = (
    ("original", 86),
    ("exact_dup", 2.5),  # the same bytes as a figure of an earlier article
    ("pixel_dup", 1.5),  # the same pixels, encoded differently
    ("near_dup", 3),  # slightly cropped, resized or brightened
    ("tiny", 2),  # both sides at most TINY_MAX_SIDE
    ("extreme", 2),  # aspect ratio at least EXTREME_MIN_ASPECT
    ("corrupt", 1.5),
    ("missing", 1.5),  # named in the XML, absent from the folder or package
)
TABLE_ROLES = (("original", 95), ("corrupt", 2.5), ("missing", 2.5))
DUPLICATE_ROLES = ("exact_dup", "pixel_dup", "near_dup")
# Encodings of ordinary figures. Charts and diagrams come as exported graphics (PNG, GIF,
# some TIFF); photographs and micrographs mostly as JPEG, some as grey-scale or 16-bit
# microscopy files.
GRAPHIC_KINDS = ("bar_chart", "line_plot", "scatter_plot", "heatmap", "schematic")
GRAPHIC_ENCODINGS = (
    (Encoding("JPEG", "RGB"), 42),
    (Encoding("JPEG", "RGB", progressive=True), 5),
    (Encoding("JPEG", "L"), 4),
    (Encoding("JPEG", "CMYK"), 4),
    (Encoding("PNG", "RGB"), 18),
    (Encoding("PNG", "RGBA"), 6),
    (Encoding("PNG", "P"), 8),
    (Encoding("GIF", "P"), 9),
    (Encoding("TIFF", "RGB"), 4),
)
PHOTO_ENCODINGS = (
    (Encoding("JPEG", "RGB"), 62),
    (Encoding("JPEG", "RGB", progressive=True), 5),
    (Encoding("JPEG", "L"), 12),
    (Encoding("JPEG", "CMYK"), 3),
    (Encoding("PNG", "RGB"), 4),
    (Encoding("PNG", "I;16"), 5),
    (Encoding("GIF", "P"), 2),
    (Encoding("TIFF", "RGB"), 3),
    (Encoding("TIFF", "L"), 4),
)
TABLE_ENCODINGS = (
    (Encoding("JPEG", "RGB"), 70),
    (Encoding("PNG", "RGB"), 15),
    (Encoding("GIF", "P"), 15),
)
SMALL_ENCODINGS = (
    (Encoding("JPEG", "RGB"), 50),
    (Encoding("PNG", "RGB"), 30),
    (Encoding("GIF", "P"), 20),
)
CORRUPTIONS = (("truncated", 50), ("bad_stream", 20), ("not_an_image", 20), ("empty", 10))
# Modes whose pixels the build reads back exactly as we drew them; duplicates are only
# made of these, so 'same pixels' and 'near' stay true after the build's normalisation.
SOURCE_MODES = ("RGB", "L", "P")
PANEL_GRIDS = (((1, 1), 45), ((1, 2), 20), ((2, 1), 10), ((2, 2), 15), ((1, 3), 10))
MENTION_COUNTS = ((0, 10), (1, 50), (2, 30), (3, 10))

# Size classes. A filter with a minimum side in (TINY_MAX_SIDE, EXTREME_MIN_SIDE] (the
# default 128 among them) and a maximum aspect ratio in [NORMAL_MAX_ASPECT,
# EXTREME_MIN_ASPECT) drops exactly the tiny figures, for their size, and the extreme ones,
# for their aspect ratio.
TINY_MAX_SIDE = 48
EXTREME_MIN_SIDE = 130
NORMAL_MIN_SIDE = 256
NORMAL_MAX_ASPECT = 2.2
EXTREME_MIN_ASPECT = 12.0
SOURCE_TRIES = 16  # candidate sources a duplicate tries before it becomes an original


@dataclass(frozen=True)
class ArticleHeader:
    index: int
    pmcid: str
    journal: Journal
    article_type: str
    license_code: str
    license_style: str
    open_access: bool
    manuscript: bool
    mid: str | None
    historical_ocr: bool
    retracted: bool
    versions: int
    n_figures: int
    floats_layout: bool
    fig_group_start: int | None  # first slot of the <fig-group>, if any
    fig_group_size: int
    pmid: int | None
    doi: str
    year: int
    month: int
    day: int
    volume: int
    issue: int
    first_page: int
    article_number: int  # what publishers put in file names
    has_pdf: bool
    n_supplements: int
    updated: tuple[str, ...]  # last-modified time of each version, ISO 8601 UTC, oldest first

    @property
    def source_eligible(self) -> bool:
        """Whether other articles may duplicate this article's images: it is in every
        layout (open access) and is not dropped as a whole (retracted)."""
        return self.open_access and not self.retracted and self.n_figures > 0


@dataclass(frozen=True)
class FigureDraft:
    slot: int  # the order the figure was drawn in (not document order)
    kind: str  # 'figure' or 'table'
    placement: str  # body, fig-group, floats-group, boxed-text, app, sub-article
    role: str
    visual: VisualSpec
    encoding: Encoding
    corruption: str | None
    has_label: bool
    has_caption: bool
    mentions: int  # body paragraphs that cite the figure
    misnamed: bool
    source: tuple[int, int] | None = None  # (article index, slot) of a duplicated image
    near_transform: str | None = None


def pmc_number(index: int, base: int, seed: int) -> int:
    """Increasing, unique and sparse like real PMCIDs: index i gets a number in
    [base + 100 i, base + 100 i + 100)."""
    return base + 100 * index + derive_int(seed, "pmcid", index) % 100


def _snapshot(snapshot_date: str) -> datetime:
    return datetime.fromisoformat(snapshot_date).replace(hour=1, minute=0, second=0)


def article_header(seed: int, index: int, pmcid_base: int, snapshot_date: str) -> ArticleHeader:
    """The article-level facts of synthetic article `index` (cheap: no figures drawn)."""
    rng = rng_for(seed, "article", index)
    journal = weighted(rng, JOURNALS)
    article_type = weighted(rng, ARTICLE_TYPES)
    license_code = weighted(rng, LICENSES)
    license_style = "prose" if license_code == "NO-CC CODE" else weighted(rng, LICENSE_STYLES)
    manuscript = chance(rng, P_MANUSCRIPT)
    open_access = not chance(rng, P_NOT_OA_MANUSCRIPT if manuscript else P_NOT_OA_OTHER)
    retracted = chance(rng, P_RETRACTED)
    historical = chance(rng, P_HISTORICAL_OCR)
    versions = weighted(rng, VERSIONS)
    p_none, most = FIGURE_COUNTS[article_type]
    if historical or chance(rng, p_none) or most == 0:
        n_figures = 0
    else:
        # Mostly a handful, now and then many: a truncated geometric-like spread.
        n_figures = min(most, 1 + int(rng.expovariate(1 / 3.5)))
    floats_layout = chance(rng, P_FLOATS_LAYOUT)
    fig_group_start, fig_group_size = None, 0
    if n_figures >= 3 and chance(rng, P_FIG_GROUP):
        fig_group_size = rng.randint(2, 3)
        fig_group_start = rng.randrange(0, n_figures - fig_group_size + 1)
    year = rng.randint(1950, 1990) if historical else rng.randint(2012, 2026)
    number = pmc_number(index, pmcid_base, seed)
    article_number = 1000 + derive_int(seed, "artno", index) % 9_000_000
    snapshot = _snapshot(snapshot_date)
    if chance(rng, P_UPDATED_ON_SNAPSHOT_DAY):
        latest = snapshot - timedelta(seconds=rng.randint(3600, 20 * 3600))
    else:
        latest = snapshot - timedelta(days=1, seconds=rng.randint(3600, 900 * 86400))
    updated = [latest]
    for _ in range(versions - 1):
        updated.append(updated[-1] - timedelta(seconds=rng.randint(30 * 86400, 400 * 86400)))
    return ArticleHeader(
        index=index,
        pmcid=f"PMC{number}",
        journal=journal,
        article_type=article_type,
        license_code=license_code,
        license_style=license_style,
        open_access=open_access,
        manuscript=manuscript,
        mid=f"NIHMS{1_000_000 + derive_int(seed, 'mid', index) % 8_999_999}"
        if manuscript
        else None,
        historical_ocr=historical,
        retracted=retracted,
        versions=versions,
        n_figures=n_figures,
        floats_layout=floats_layout,
        fig_group_start=fig_group_start,
        fig_group_size=fig_group_size,
        pmid=30_000_000 + 20 * index + rng.randrange(20) if chance(rng, P_PMID) else None,
        doi=f"10.{5000 + derive_int(seed, 'doi', journal.code) % 4000}/{journal.code.lower()}.{year}.{article_number}",
        year=year,
        month=rng.randint(1, 12),
        day=rng.randint(1, 28),
        volume=max(1, year - 2000 + rng.randint(1, 20)),
        issue=rng.randint(1, 12),
        first_page=rng.randint(1, 2400),
        article_number=article_number,
        has_pdf=historical or not chance(rng, P_NO_PDF),
        n_supplements=0 if historical else weighted(rng, SUPPLEMENTS),
        updated=tuple(t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in reversed(updated)),
    )


# --- figures ------------------------------------------------------------------------------


def _normal_size(rng: random.Random) -> tuple[int, int]:
    """(width, height): the long side mostly 360-1200 px, now and then print size; aspect
    ratio up to NORMAL_MAX_ASPECT, landscape more often than portrait."""
    if chance(rng, 0.02):
        long_side = rng.randint(1800, 2400)  # the occasional print-resolution figure
    else:
        long_side = round(math.exp(rng.uniform(math.log(360), math.log(1200))))
    aspect = math.exp(rng.uniform(0.0, math.log(NORMAL_MAX_ASPECT)))
    short_side = max(NORMAL_MIN_SIDE, round(long_side / aspect))
    long_side = max(long_side, short_side)
    return (long_side, short_side) if chance(rng, 0.7) else (short_side, long_side)


def _size(rng: random.Random, role: str) -> tuple[int, int]:
    if role == "tiny":
        return rng.randint(8, TINY_MAX_SIDE), rng.randint(8, TINY_MAX_SIDE)
    if role == "extreme":
        # The short side at least EXTREME_MIN_SIDE: a default build (min_side 128) drops these
        # for their aspect ratio, not their size (as the truth file expects); the long side
        # at most 2400 px, as every picture's.
        short_side = EXTREME_MIN_SIDE + (rng.randint(900, 1800) - 900) // 36  # 130-155 px
        long_side = round(short_side * rng.uniform(EXTREME_MIN_ASPECT + 0.5, 15))
        return (long_side, short_side) if chance(rng, 0.6) else (short_side, long_side)
    return _normal_size(rng)


def _visual(rng: random.Random, kind: str, role: str) -> VisualSpec:
    width, height = _size(rng, role)
    if kind == "table":
        visual_kind, color = "table", rng.choice(("black", "black", "blue"))
    else:
        visual_kind = weighted(rng, VISUAL_KINDS)
        color = {
            "fluorescence_micrograph": lambda: rng.choice(FLUOR_COLORS),
            "histology": lambda: rng.choice(("purple", "blue")),
            "western_blot": lambda: "black",
            "ct_scan": lambda: "grey",
            "heatmap": lambda: rng.choice(("red", "orange", "purple")),
        }.get(visual_kind, lambda: rng.choice(PLOT_COLORS))()
    panels = (1, 1)
    if role == "original" and visual_kind != "table":
        rows, cols = weighted(rng, PANEL_GRIDS)
        if min(width // cols, height // rows) >= 150:
            panels = (rows, cols)
    return VisualSpec(
        visual_kind, color, rng.choice(SHAPES), width, height, rng.getrandbits(32), panels
    )


def _encoding(rng: random.Random, kind: str, role: str, visual_kind: str) -> Encoding:
    if role in ("tiny", "extreme"):
        encoding = weighted(rng, SMALL_ENCODINGS)
    elif kind == "table":
        encoding = weighted(rng, TABLE_ENCODINGS)
    elif role == "corrupt":
        encoding = Encoding("PNG", "RGB") if chance(rng, 0.4) else Encoding("JPEG", "RGB")
    else:
        encoding = weighted(
            rng, GRAPHIC_ENCODINGS if visual_kind in GRAPHIC_KINDS else PHOTO_ENCODINGS
        )
    if encoding.format == "JPEG":
        encoding = replace(encoding, quality=rng.randint(75, 95))
    return encoding


def _placement(rng: random.Random, header: ArticleHeader, slot: int, kind: str) -> str:
    start = header.fig_group_start
    if start is not None and start <= slot < start + header.fig_group_size:
        return "fig-group"
    if kind == "figure":
        roll = rng.random()
        if roll < P_BOXED_TEXT:
            return "boxed-text"
        if roll < P_BOXED_TEXT + P_APP:
            return "app"
        if roll < P_BOXED_TEXT + P_APP + P_SUB_ARTICLE:
            return "sub-article"
    return "floats-group" if header.floats_layout else "body"


# Document order: body content first (body, its fig-groups and boxed-text, in slot order),
# then <back>'s appendices, then <floats-group>, then sub-articles.
_PLACEMENT_RANK = {
    "body": 0,
    "fig-group": 0,
    "boxed-text": 0,
    "app": 1,
    "floats-group": 2,
    "sub-article": 3,
}


def _draft(seed: int, header: ArticleHeader, slot: int) -> FigureDraft:
    rng = rng_for(seed, "figure", header.index, slot)
    in_group = header.fig_group_start is not None and (
        header.fig_group_start <= slot < header.fig_group_start + header.fig_group_size
    )
    kind = "table" if not in_group and chance(rng, P_TABLE) else "figure"
    placement = _placement(rng, header, slot, kind)
    role = weighted(rng, TABLE_ROLES if kind == "table" else FIGURE_ROLES)
    visual = _visual(rng, kind, role)
    encoding = _encoding(rng, kind, role, visual.kind)
    corruption = None
    if role == "corrupt":
        corruption = weighted(rng, CORRUPTIONS)
        if corruption == "bad_stream" and encoding.format != "PNG":
            corruption = "truncated"
    has_label = not chance(rng, P_NO_LABEL)
    return FigureDraft(
        slot=slot,
        kind=kind,
        placement=placement,
        role=role,
        visual=visual,
        encoding=encoding,
        corruption=corruption,
        has_label=has_label,
        has_caption=not chance(rng, P_NO_CAPTION),
        mentions=weighted(rng, MENTION_COUNTS),
        misnamed=role == "original" and encoding.format == "PNG" and chance(rng, P_MISNAMED),
    )


def figure_drafts(seed: int, header: ArticleHeader) -> list[FigureDraft]:
    """The article's figures in document order, before duplicate sources are resolved."""
    drafts = [_draft(seed, header, slot) for slot in range(header.n_figures)]

    def rank(draft: FigureDraft) -> int:
        if draft.placement == "fig-group" and header.floats_layout:
            return _PLACEMENT_RANK["floats-group"]  # the group itself floats
        return _PLACEMENT_RANK[draft.placement]

    return sorted(drafts, key=lambda d: (rank(d), d.slot))


def is_source(draft: FigureDraft) -> bool:
    """Whether a draft is an ordinary picture that a duplicate may copy."""
    return (
        draft.role == "original"
        and draft.kind == "figure"
        and draft.encoding.mode in SOURCE_MODES
        and not draft.misnamed
    )


def resolve_sources(
    seed: int,
    header: ArticleHeader,
    drafts: list[FigureDraft],
    header_of,  # callable: index -> ArticleHeader of an earlier synthetic article
    first_index: int = 0,
) -> list[FigureDraft]:
    """Give each duplicate its source figure in an earlier article (index in
    [first_index, header.index)); a duplicate that finds none becomes an original."""
    resolved = []
    for draft in drafts:
        if draft.role not in DUPLICATE_ROLES:
            resolved.append(draft)
            continue
        rng = rng_for(seed, "source", header.index, draft.slot)
        source = None
        if header.index > first_index:
            for _ in range(SOURCE_TRIES):
                candidate = header_of(rng.randrange(first_index, header.index))
                if not candidate.source_eligible:
                    continue
                slot = rng.randrange(candidate.n_figures)
                if is_source(_draft(seed, candidate, slot)):
                    source = (candidate.index, slot)
                    break
        if source is None:
            resolved.append(replace(draft, role="original"))
        else:
            transform = rng.choice(NEAR_TRANSFORMS) if draft.role == "near_dup" else None
            resolved.append(replace(draft, source=source, near_transform=transform))
    return resolved


def source_draft(seed: int, header: ArticleHeader, slot: int) -> tuple[int, FigureDraft]:
    """The draft of figure `slot` of an article and its 1-based document-order index."""
    drafts = figure_drafts(seed, header)
    for position, draft in enumerate(drafts, start=1):
        if draft.slot == slot:
            return position, draft
    raise ValueError(f"article {header.index} has no figure slot {slot}")
