"""Extract: one article from its reference to staging rows (list -> fetch -> parse -> pair ->
image -> filter).

This is the per-article work, well over 95% of a build's cost. `extract_article` is a pure
function of the article's bytes and the options: it never raises for bad input, it returns an
article row with a status and reason and one row per figure seen. The Beam job, the plain loop
in bench/ and the tests all call it the same way.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from pmc_pipeline import filters, records, staging
from pmc_pipeline.filters import FilterOptions, article_drop_reason, figure_drop_reason
from pmc_pipeline.images import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MEMORY_BUDGET,
    IMAGE_VERSION,
    ImageError,
    process_image,
)
from pmc_pipeline.jats import PARSER_VERSION, parse_article
from pmc_pipeline.model import (
    Article,
    ArticleRef,
    ArticleStatus,
    FetchError,
    FigureStatus,
    MissingFile,
    ParseError,
    UnsafeInput,
)
from pmc_pipeline.sources.selection import exclusion_reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtractOptions:
    """What extract does to each article; part of the build options."""

    filters: FilterOptions = field(default_factory=FilterOptions)
    max_side: int = 1024  # longer side of the published JPEG; never upscaled
    jpeg_quality: int = 95
    max_pixels: int = DEFAULT_MAX_PIXELS  # decompression-bomb cap
    # Bytes that image decoding may hold at once in one process, over all its fetch threads
    # (images.process_image; docs/filters.md states the guarantee).
    memory_budget: int = DEFAULT_MEMORY_BUDGET


def shaped_by(opts: ExtractOptions) -> dict:
    """What makes a staged article what it is: the extract options (filters flattened in,
    sets sorted) and the versions of the parser, the image stage and the staging format.
    Staging records it per generation (ledger.py)."""
    options = asdict(opts)
    filters = options.pop("filters")
    for name, value in filters.items():
        options[name] = sorted(value) if isinstance(value, (set, frozenset)) else value
    options["versions"] = {
        "parser": PARSER_VERSION,
        "images": IMAGE_VERSION,
        "staging": staging.FORMAT,
    }
    return options


@dataclass
class ArticleResult:
    """The staging rows of one article: exactly one article row, one row per figure seen."""

    article: dict
    figures: list[dict]


def extract_article(ref: ArticleRef, source, opts: ExtractOptions) -> ArticleResult:
    """Fetch, parse and process one article version; every outcome is a status with a reason."""
    files = None
    try:
        files = source.open_article(ref)
        reason = exclusion_reason(ref, files.metadata, licenses=opts.filters.licenses)
        if reason:
            return _article_only(ref, ArticleStatus.EXCLUDED, reason, files)
        try:
            article = parse_article(files.xml())
        except ParseError as exc:
            return _article_only(ref, ArticleStatus.PARSE_FAILED, _reason("parse", exc), files)
        reason = article_drop_reason(article, opts.filters)
        if reason:
            return _article_only(ref, ArticleStatus.EXCLUDED, reason, files, article)
        if not article.figures:
            return _article_only(ref, ArticleStatus.NO_FIGURES, None, files, article)
        figures = [_extract_figure(ref, article, figure, files, opts) for figure in article.figures]
    except MissingFile as exc:
        return _article_only(ref, ArticleStatus.FETCH_FAILED, _reason("missing", exc), files)
    except FetchError as exc:  # after bounded retries, or damaged differently on each one
        return _article_only(ref, ArticleStatus.FETCH_FAILED, _reason("fetch", exc), files)
    except UnsafeInput as exc:
        return _article_only(ref, ArticleStatus.UNSAFE, _reason("unsafe", exc), files)
    except ParseError as exc:  # a metadata JSON or package bad at the source
        return _article_only(ref, ArticleStatus.PARSE_FAILED, _reason("parse", exc), files)
    except Exception as exc:  # a bug must not end an 8-million-article run; it is recorded
        log.exception("unexpected error extracting %s", ref.key)
        return _article_only(
            ref, ArticleStatus.PARSE_FAILED, f"internal_error: {exc!r}"[:500], files
        )
    row = records.article_row(
        ref, article, ArticleStatus.OK, None, bytes_read=files.bytes_read, n_figures=len(figures)
    )
    return ArticleResult(row, figures)


def _extract_figure(ref: ArticleRef, article: Article, figure, files, opts: ExtractOptions) -> dict:
    """One figure's staging row. Rules that need no image run first, so a figure that will be
    dropped anyway costs no download. A transient fetch error propagates: the whole article is
    then recorded as fetch_failed and `--retry-failed` redoes it."""

    def row(status, reason=None, image=None, jpeg=None, name=None):
        return records.figure_row(ref, article, figure, status, reason, image, jpeg, name)

    reason = figure_drop_reason(figure, None, opts.filters)
    if reason and reason != filters.NO_IMAGE:
        return row(FigureStatus.FILTERED, reason)
    href = figure.image_href
    if href is None:
        return row(FigureStatus.IMAGE_FAILED, "no_graphic")
    try:
        name, data = files.image(href)
    except MissingFile as exc:  # e.g. 'missing: no member for href ...' or a damaged archive
        return row(FigureStatus.IMAGE_FAILED, _reason(filters.NO_IMAGE, exc))
    except UnsafeInput as exc:
        return row(FigureStatus.IMAGE_FAILED, _reason("unsafe_image", exc))
    try:
        image = process_image(
            data,
            max_side=opts.max_side,
            quality=opts.jpeg_quality,
            max_pixels=opts.max_pixels,
            memory_budget=opts.memory_budget,
        )
    except ImageError as exc:
        return row(FigureStatus.IMAGE_FAILED, f"image_{exc.reason}", name=name)
    reason = figure_drop_reason(figure, image, opts.filters)
    if reason:
        return row(FigureStatus.FILTERED, reason, image=image, name=name)
    # A candidate: kept unless assemble finds it a duplicate or contaminated.
    return row(FigureStatus.KEPT, None, image=image, jpeg=image.jpeg, name=name)


def _article_only(ref, status, reason, files, article=None) -> ArticleResult:
    bytes_read = files.bytes_read if files is not None else 0
    return ArticleResult(
        records.article_row(ref, article, status, reason, bytes_read=bytes_read), []
    )


def _reason(prefix: str, exc: Exception) -> str:
    """A short, stable reason string: 'fetch: 503 after 5 attempts'."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{prefix}: {text}"[:300]
