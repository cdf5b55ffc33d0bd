"""JATS XML -> Article with its Figures, full captions, in-text mentions and metadata.

One entry point, `parse_article(xml)`, reads every JATS flavour PMC serves: classic `.nxml`
(with a DOCTYPE, no namespace), the 2026 cloud XML (hrefs with extensions, <alternatives>
holding an image and a thumbnail), OAI-PMH records (JATS in the default namespace
`https://jats.nlm.nih.gov/ns/archiving/1.3/`) and publisher XML such as eLife's.

What counts as a figure: every <fig>, wherever it sits, and every <table-wrap> that exists
only as an image (a <graphic> and no <table>), which comes out with kind TABLE so the
filters can choose. Figure.index is 1-based over both in document order; it becomes the
stable figure key. See docs/jats.md for how captions and mentions are built.
"""

from __future__ import annotations

import logging
from os import PathLike

from lxml import etree

from pmc_pipeline.model import (
    Article,
    ArticleStatus,
    Figure,
    FigureKind,
    Graphic,
    GraphicRole,
    ParseError,
    UnsafeInput,
)

from .mentions import attach_mentions
from .meta import fill_metadata
from .scan import FigureElement, placement, scan_article
from .text import block_text, text_of
from .xmltree import XLINK_HREF, Names, child, children, find_article, names_for, parse_xml

logger = logging.getLogger(__name__)

# Bumped whenever a change to the parser can change what it returns for some article:
# staging records it, and a build refuses staging parsed by another version (ledger.py).
PARSER_VERSION = 1

# The largest PMC article XML is a few tens of MB (supplement-heavy, MathML-heavy ones);
# anything much larger is not an article we want to hold in memory.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

_THUMB_TYPES = frozenset({"thumb", "thumbnail"})


def parse_article(
    xml: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, read_references: bool = False
) -> Article:
    """The Article in JATS `xml`, with all its figures and tables-as-images.

    Raises UnsafeInput for refused input (size cap, entity declarations) and ParseError for
    anything else that is not a readable JATS article; the message is the reason. The
    reference list, which nothing here reads, is not parsed unless `read_references`
    (see refs.py): that is faster, and a document that is well-formed except inside its
    reference list is read rather than refused.
    """
    root = parse_xml(xml, max_bytes, skip_references=not read_references)
    article_el = find_article(root)
    names = names_for(article_el)
    article = Article()
    try:
        fill_metadata(article, article_el, names)
        scan = scan_article(article_el, names)
        article.figures = _figures(scan.figures, names)
    except Exception as exc:  # a bug or an input we did not foresee: a reason, not a crash
        logger.warning("JATS parse failed unexpectedly", exc_info=True)
        raise ParseError(f"unexpected {type(exc).__name__} while reading JATS: {exc}") from exc
    try:  # after the figures: it edits paragraphs, removing the floats placed in them
        attach_mentions(scan, article.figures, names)
    except Exception:  # mentions are a bonus; losing them must not lose the figures
        logger.warning("finding figure mentions failed", exc_info=True)
    return article


def _figures(found: list[FigureElement], names: Names) -> list[Figure]:
    figures = []
    for index, item in enumerate(found, start=1):
        try:
            figures.append(_figure(item, index, names))
        except Exception:  # keep the index and id so the figure is still accounted for
            el = item.element
            logger.warning("figure %s could not be read", el.get("id"), exc_info=True)
            figures.append(Figure(id=el.get("id"), index=index, kind=_kind(el, names)))
    return figures


def _kind(el: etree._Element, names: Names) -> str:
    return FigureKind.FIGURE if el.tag == names("fig") else FigureKind.TABLE


def _figure(found: FigureElement, index: int, names: Names) -> Figure:
    el = found.element
    figure = Figure(id=el.get("id"), index=index, kind=_kind(el, names))
    parts = children(el)
    figure.label = text_of(_first(parts, names("label")))
    figure.graphics = _graphics(el, parts, names)
    figure.placement, figure.parent_group = placement(found, names)
    caption = _first(parts, names("caption"))
    if caption is not None:
        figure.title = text_of(child(caption, names("title")))
        figure.caption = block_text(caption, names)  # edits the caption: last
    return figure


def _first(parts: dict[str, list[etree._Element]], tag: str) -> etree._Element | None:
    found = parts.get(tag)
    return found[0] if found else None


def _graphics(el: etree._Element, parts: dict, names: Names) -> list[Graphic]:
    """The figure's graphics: its own, those in its <alternatives>, or else any inside it."""
    graphic = names("graphic")
    found = list(parts.get(graphic, ()))
    for alternatives in parts.get(names("alternatives"), ()):
        found.extend(g for g in alternatives if g.tag == graphic)
    if not found:  # an unusual layout (a graphic inside a <p>, say): look everywhere
        found = list(el.iter(graphic))
    graphics = []
    for g in found:
        href = (g.get(XLINK_HREF) or g.get("href") or "").strip()
        if href:
            kinds = {g.get("content-type"), g.get("specific-use")}
            role = GraphicRole.THUMB if kinds & _THUMB_TYPES else GraphicRole.IMAGE
            graphics.append(Graphic(href=href, role=role))
    return graphics


# --- JSON ---------------------------------------------------------------------------------


def article_to_json(article: Article, path: str | PathLike | None = None) -> dict:
    """The JSON record of an article, as `pmc-pipeline parse` prints it and
    schemas/article.schema.json describes it."""
    return {
        "path": None if path is None else str(path),
        "pmcid": article.pmcid,
        "version": article.version,
        "pmid": article.pmid,
        "doi": article.doi,
        "title": article.title,
        "journal": article.journal,
        "publisher": article.publisher,
        "year": article.year,
        "article_type": article.article_type,
        "license": {
            "code": article.license.code,
            "url": article.license.url,
            "text": article.license.text,
        },
        "keywords": list(article.keywords),
        "figures": [_figure_to_json(f) for f in article.figures],
    }


def _figure_to_json(figure: Figure) -> dict:
    return {
        "id": figure.id,
        "index": figure.index,
        "kind": figure.kind,
        "label": figure.label,
        "title": figure.title,
        "caption": figure.caption,
        "placement": figure.placement,
        "parent_group": figure.parent_group,
        "graphics": [{"href": g.href, "role": g.role} for g in figure.graphics],
        "mentions": list(figure.mentions),
    }


def error_to_json(path: str | PathLike | None, error: Exception) -> dict:
    """The JSON record of an article that could not be parsed: its path, the reason, and
    the ArticleStatus it ends with."""
    if isinstance(error, UnsafeInput):
        status = ArticleStatus.UNSAFE
    elif isinstance(error, ParseError):
        status = ArticleStatus.PARSE_FAILED
    else:  # the file itself could not be read
        status = ArticleStatus.FETCH_FAILED
    return {"path": None if path is None else str(path), "error": str(error), "status": status}
