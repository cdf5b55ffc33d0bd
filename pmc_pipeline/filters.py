"""Keep/drop rules for articles and figures, each drop with its named reason.

Two entry points, both pure functions of their input and the options:
- `article_drop_reason(article, opts)`: rules on the parsed JATS (article type, licence).
- `figure_drop_reason(figure, image, opts)`: rules on one figure. Called with image=None
  before the image is fetched, it applies every rule that needs no image and otherwise
  returns NO_IMAGE, so a figure that will be dropped anyway costs no download; called again
  with the ProcessedImage, it applies the image rules too.

Retracted and not-open-access articles are decided earlier, from PMC's own metadata, by
pmc_pipeline/sources/selection.py; docs/filters.md lists every reason of both together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pmc_pipeline.captions import FIGURE_TYPES, figure_types
from pmc_pipeline.images import ProcessedImage
from pmc_pipeline.licenses import license_allowlist, normalize_license
from pmc_pipeline.model import Article, Figure, FigureKind, FigureStatus

# --- reasons ----------------------------------------------------------------------------------

# Article reasons (ArticleStatus.EXCLUDED), written '<reason>:<value>' like those of
# sources/selection.py: 'article_type_not_allowed:editorial', 'license_not_allowed:CC BY-NC'.
ARTICLE_TYPE_NOT_ALLOWED = "article_type_not_allowed"
LICENSE_NOT_ALLOWED = "license_not_allowed"

# Figure reasons. All are FigureStatus.FILTERED except NO_IMAGE (IMAGE_FAILED).
TABLE_EXCLUDED = "table_excluded"  # a table that exists only as an image
CAPTION_TOO_SHORT = "caption_too_short"
CAPTION_TOO_LONG = "caption_too_long"
# Written 'figure_type_not_allowed:<types>' (the caption's types joined by '+'), like the
# article reasons, so the stats count one reason and a row still says which types it had.
FIGURE_TYPE_NOT_ALLOWED = "figure_type_not_allowed"
NO_IMAGE = "no_image"  # no image file was found for the figure
MIN_SIDE = "min_side"  # shorter side of the original image below min_side
ASPECT_RATIO = "aspect_ratio"  # longer side / shorter side above max_aspect_ratio

ARTICLE_REASONS = (ARTICLE_TYPE_NOT_ALLOWED, LICENSE_NOT_ALLOWED)
FIGURE_REASONS = (
    TABLE_EXCLUDED,
    CAPTION_TOO_SHORT,
    CAPTION_TOO_LONG,
    FIGURE_TYPE_NOT_ALLOWED,
    NO_IMAGE,
    MIN_SIDE,
    ASPECT_RATIO,
)


@dataclass(frozen=True)
class FilterOptions:
    """The keep/drop rules of a build. Defaults aim at a PMC-15M-style training set.

    min_side = 128 px, on the original image (before resize). PMC-15M publishes no size
        rule and DataComp's basic filter (min side 200 px, mlfoundations/datacomp
        baselines/utils.py) drops real figure strips, whose short side is often ~160 px at
        ~740 px wide (shared fixtures images/pmc: ijms-24-13282-g003/g005). 128 sits above
        PMC's thumbnails (short side <= 100 px in the same fixtures) and inline formula
        graphics (~32 px tall), which a figure falls back to when its full image is missing.
    max_aspect_ratio = 10.0 (longer / shorter side). DataComp's 3.0 would drop the
        multi-panel strips common in PMC (4.5:1 in the fixtures); 10 drops only rules,
        banners and formula strips, of which a square training crop shows < 10%.
    min_caption_tokens = 3 words: DataComp's basic filter keeps captions of more than two
        words; one or two words ('Box figure', 'Flow chart') give a contrastive model
        nothing to align. PMC-15M publishes no caption-length rule.
    max_caption_tokens = 2048 words: a guard against a parse running away (a caption that
        swallowed a section), not a style rule. The longest real caption in the shared JATS
        fixtures has 877 words (eLife); BiomedCLIP's text encoder reads 256 tokens and
        truncates the rest at training time, so long captions are kept whole here.
    licenses = None (all): PMC-15M used the whole PMC Open Access subset, commercial and
        non-commercial licences alike. For a redistributable set pass
        licenses.COMMERCIAL_USE. Codes are normalised (licenses.normalize_license).
    article_types = None (all): PMC-15M did not select by article type. Values are JATS
        @article-type strings ('research-article', 'review-article', 'case-report', ...),
        compared case-insensitively.
    include_tables = False: PMC-15M's captions come from pubmed_parser.parse_pubmed_caption,
        which reads <fig> elements only, so tables-as-images were not in it.
    figure_types = None (all): an allowlist of figure types (pmc_pipeline.captions, read
        from the caption); a figure is kept when any of its types is allowed. PMC-15M kept
        every figure.
    """

    min_side: int = 128
    max_aspect_ratio: float = 10.0
    min_caption_tokens: int = 3
    max_caption_tokens: int | None = 2048
    licenses: frozenset[str] | None = None
    article_types: frozenset[str] | None = None
    include_tables: bool = False
    figure_types: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.min_side < 0:
            raise ValueError(f"min_side must be >= 0, got {self.min_side}")
        if not (math.isfinite(self.max_aspect_ratio) and self.max_aspect_ratio >= 1):
            raise ValueError(f"max_aspect_ratio must be a number >= 1, got {self.max_aspect_ratio}")
        if self.min_caption_tokens < 0:
            raise ValueError(f"min_caption_tokens must be >= 0, got {self.min_caption_tokens}")
        if (
            self.max_caption_tokens is not None
            and self.max_caption_tokens < self.min_caption_tokens
        ):
            raise ValueError(
                f"max_caption_tokens ({self.max_caption_tokens}) is below "
                f"min_caption_tokens ({self.min_caption_tokens})"
            )
        # Frozen: normalised values are set through object.__setattr__, once, here.
        if self.licenses is not None:
            object.__setattr__(self, "licenses", license_allowlist(self.licenses))
        if self.article_types is not None:
            types = frozenset(t.strip().lower() for t in self.article_types if t.strip())
            object.__setattr__(self, "article_types", types)
        if self.figure_types is not None:
            object.__setattr__(self, "figure_types", figure_type_allowlist(self.figure_types))


# --- rules --------------------------------------------------------------------------------------


def figure_type_allowlist(names) -> frozenset[str]:
    """Figure type names as users write them ('Chart', ' radiology') -> the allowlist; an
    unknown name is a ValueError that lists the taxonomy."""
    allowed = frozenset(n.strip().lower() for n in names if n.strip())
    unknown = sorted(allowed - set(FIGURE_TYPES))
    if unknown or not allowed:
        raise ValueError(
            f"unknown figure type(s) {', '.join(unknown) or '(none given)'}; "
            f"the figure types are: {', '.join(FIGURE_TYPES)}"
        )
    return allowed


def caption_tokens(text: str | None) -> int:
    """The length of a caption in whitespace-separated words (Unicode whitespace, so NBSP
    and thin space separate words too). Words rather than a model's subword tokens: the
    count is the same whatever tokenizer trains on the data, and it is what DataComp's
    caption rule counts."""
    return len(text.split()) if text else 0


def article_drop_reason(article: Article, opts: FilterOptions) -> str | None:
    """Why the parsed article is excluded, or None to keep it.

    An article with no article-type fails an article-type allowlist ('...:unknown'). The
    licence rule only acts on a licence the XML states: whether an article whose licence is
    unreadable may pass is decided by sources/selection.py from PMC's own licence metadata,
    which is authoritative; a licence the XML does state outside the allowlist excludes the
    article even if the metadata disagrees (the safer reading for redistribution).
    """
    if opts.article_types is not None:
        article_type = (article.article_type or "").strip().lower()
        if article_type not in opts.article_types:
            return f"{ARTICLE_TYPE_NOT_ALLOWED}:{article_type or 'unknown'}"
    if opts.licenses is not None:
        code = _article_license(article)
        if code is not None and code not in opts.licenses:
            return f"{LICENSE_NOT_ALLOWED}:{code}"
    return None


def _article_license(article: Article) -> str | None:
    # The parser normalises the code when it can; the URL or prose may still name it.
    lic = article.license
    return lic.code or normalize_license(lic.url) or normalize_license(lic.text)


def figure_drop_reason(
    figure: Figure, image: ProcessedImage | None, opts: FilterOptions
) -> str | None:
    """Why the figure is dropped, or None to keep it. Rules run cheapest first, so the
    reason is the first one that applies: table, caption length, image present, then the
    image's size and shape (of the original image, before resize). The figure-type rule
    reads the caption only, so it runs before any image is fetched."""
    if figure.kind == FigureKind.TABLE and not opts.include_tables:
        return TABLE_EXCLUDED
    tokens = caption_tokens(figure.caption)
    if tokens < opts.min_caption_tokens:
        return CAPTION_TOO_SHORT
    if opts.max_caption_tokens is not None and tokens > opts.max_caption_tokens:
        return CAPTION_TOO_LONG
    if opts.figure_types is not None:
        types = figure_types(figure.caption)
        if not opts.figure_types.intersection(types):
            # "untyped": the caption names no kind of figure (pmc_pipeline.captions)
            return f"{FIGURE_TYPE_NOT_ALLOWED}:{'+'.join(types) or 'untyped'}"
    if image is None:
        return NO_IMAGE
    short, long = sorted((image.orig_width, image.orig_height))
    if short < opts.min_side:
        return MIN_SIDE
    if long > opts.max_aspect_ratio * short:
        return ASPECT_RATIO
    return None


def figure_status(reason: str) -> str:
    """The FigureStatus a figure_drop_reason maps to."""
    return FigureStatus.IMAGE_FAILED if reason == NO_IMAGE else FigureStatus.FILTERED
