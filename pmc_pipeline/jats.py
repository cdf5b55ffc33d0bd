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

import itertools
import logging
import operator
from dataclasses import dataclass, field
from os import PathLike

from lxml import etree

from .jats_meta import fill_metadata
from .jats_text import block_text, citing_sentences, text_of
from .jats_xml import XLINK_HREF, Names, child, children, find_article, names_for, parse_xml
from .model import (
    Article,
    ArticleStatus,
    Figure,
    FigureKind,
    Graphic,
    GraphicRole,
    ParseError,
    UnsafeInput,
)

logger = logging.getLogger(__name__)

# The largest PMC article XML is a few tens of MB (supplement-heavy, MathML-heavy ones);
# anything much larger is not an article we want to hold in memory.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# Where a figure sits, most telling first: a figure in a fig-group inside an appendix is
# placed 'app' (its group is still named by parent_group); anything else is 'body'.
_PLACEMENTS = ("sub-article", "app", "boxed-text", "fig-group", "floats-group")
_THUMB_TYPES = frozenset({"thumb", "thumbnail"})
# Floats that may sit inside a paragraph; they are not part of its sentences.
_FLOATS = ("fig", "fig-group", "table-wrap", "table-wrap-group", "boxed-text")
_FLOATS += ("supplementary-material", "media")
# Ancestors that show an <xref> is not running text.
_NOT_RUNNING_TEXT = ("caption", "fig", "table-wrap", "ref-list", "front")
_CITING_TYPES = frozenset({"fig", "table"})
_REF_TYPE = operator.methodcaller("get", "ref-type")


def parse_article(xml: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """The Article in JATS `xml`, with all its figures and tables-as-images.

    Raises UnsafeInput for refused input (size cap, entity declarations) and ParseError for
    anything else that is not a readable JATS article; the message is the reason.
    """
    root = parse_xml(xml, max_bytes)
    article_el = find_article(root)
    names = names_for(article_el)
    article = Article()
    try:
        fill_metadata(article, article_el, names)
        scan = _scan(article_el, names)
        article.figures = _figures(scan.figures, names)
    except Exception as exc:  # a bug or an input we did not foresee: a reason, not a crash
        logger.warning("JATS parse failed unexpectedly", exc_info=True)
        raise ParseError(f"unexpected {type(exc).__name__} while reading JATS: {exc}") from exc
    try:  # after the figures: it edits paragraphs, removing the floats placed in them
        _attach_mentions(scan, names, article.figures)
    except Exception:  # mentions are a bonus; losing them must not lose the figures
        logger.warning("finding figure mentions failed", exc_info=True)
    return article


@dataclass
class _Scan:
    """What one pass over the article finds (each full pass costs about a tenth of the
    parse itself, so there is only one)."""

    figures: list[etree._Element] = field(default_factory=list)  # figs and table images
    xrefs: list[etree._Element] = field(default_factory=list)  # may cite a figure or table
    float_holders: set[etree._Element] = field(default_factory=set)  # <p>s holding floats


def _scan(article_el: etree._Element, names: Names) -> _Scan:
    scan = _Scan()
    fig, table_wrap, xref, paragraph = names("fig"), names("table-wrap"), names("xref"), names("p")
    floats = names.many(_FLOATS)
    for section in _sections(article_el, names):
        for el in section.iter(*floats):
            parent = el.getparent()
            if parent is not None and parent.tag == paragraph:
                scan.float_holders.add(parent)
            if el.tag == fig or (el.tag == table_wrap and _is_table_image(el, names)):
                scan.figures.append(el)
        # Thousands of <xref>s (mostly to references) per article: filtered in C, with no
        # Python bytecode run per element.
        xrefs = list(section.iter(xref))
        ref_types = map(_REF_TYPE, xrefs)
        scan.xrefs.extend(itertools.compress(xrefs, map(_CITING_TYPES.__contains__, ref_types)))
    return scan


def _sections(article_el: etree._Element, names: Names):
    """The parts of the article to scan: all but its reference lists, which hold neither
    figures nor running text and are most of a typical article's nodes."""
    back, ref_list = names("back"), names("ref-list")
    for part in article_el:
        if part.tag == back:
            yield from (section for section in part if section.tag != ref_list)
        else:
            yield part


def _figures(elements: list[etree._Element], names: Names) -> list[Figure]:
    figures = []
    for index, el in enumerate(elements, start=1):
        try:
            figures.append(_figure(el, index, names))
        except Exception:  # keep the index and id so the figure is still accounted for
            logger.warning("figure %s could not be read", el.get("id"), exc_info=True)
            figures.append(Figure(id=el.get("id"), index=index, kind=_kind(el, names)))
    return figures


def _is_table_image(table_wrap: etree._Element, names: Names) -> bool:
    table, graphic = names("table"), names("graphic")
    if next(table_wrap.iterchildren(table), None) is not None:
        return False  # the usual case, answered without walking a large table
    return (
        next(table_wrap.iter(graphic), None) is not None
        and next(table_wrap.iter(table), None) is None
        and next(table_wrap.iterancestors(names("fig")), None) is None  # part of its figure
    )


def _kind(el: etree._Element, names: Names) -> str:
    return FigureKind.FIGURE if el.tag == names("fig") else FigureKind.TABLE


def _figure(el: etree._Element, index: int, names: Names) -> Figure:
    figure = Figure(id=el.get("id"), index=index, kind=_kind(el, names))
    parts = children(el)
    figure.label = text_of(_first(parts, names("label")))
    figure.graphics = _graphics(el, parts, names)
    figure.placement, figure.parent_group = _placement(el, names)
    caption = _first(parts, names("caption"))
    if caption is not None:
        figure.title = text_of(child(caption, names("title")))
        figure.caption = block_text(caption, names)
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


def _placement(el: etree._Element, names: Names) -> tuple[str, str | None]:
    """Where the figure sits (see _PLACEMENTS) and the id of its enclosing <fig-group>."""
    placements, fig_group = names.many(_PLACEMENTS), names("fig-group")
    best, group = len(_PLACEMENTS), None
    ancestor = el.getparent()
    while ancestor is not None:
        if ancestor.tag in placements:
            best = min(best, placements.index(ancestor.tag))
            if group is None and ancestor.tag == fig_group:
                # eLife's fig-groups have no id: name the group by its first (main) figure.
                first = child(ancestor, names("fig"))
                group = ancestor.get("id") or (first.get("id") if first is not None else None)
        ancestor = ancestor.getparent()
    return (_PLACEMENTS[best] if best < len(_PLACEMENTS) else "body"), group


# --- mentions -----------------------------------------------------------------------------


def _attach_mentions(scan: _Scan, names: Names, figures: list[Figure]) -> None:
    """Give each figure the sentences that cite it through <xref rid=...>, in document
    order, each once; an xref naming several ids ('F1 F2') counts for each."""
    by_id = {f.id: f for f in figures if f.id}
    if not by_id:
        return
    # paragraph -> its citing xrefs as (document position, xref, cited figures)
    cited: dict[etree._Element, list[tuple[int, etree._Element, list[Figure]]]] = {}
    paragraph_of: dict[etree._Element, etree._Element | None] = {}  # by the xref's parent
    for position, xref in enumerate(scan.xrefs):
        targets = [by_id[rid] for rid in (xref.get("rid") or "").split() if rid in by_id]
        if not targets:
            continue
        parent = xref.getparent()
        if parent not in paragraph_of:
            paragraph_of[parent] = _running_text_paragraph(parent, names)
        paragraph = paragraph_of[parent]
        if paragraph is not None:
            cited.setdefault(paragraph, []).append((position, xref, targets))
    found: list[tuple[int, Figure, str]] = []
    for paragraph, entries in cited.items():
        if paragraph in scan.float_holders:
            # A nested paragraph removed with its float stays readable through its proxy.
            etree.strip_elements(paragraph, *names.many(_FLOATS), with_tail=False)
        sentences = citing_sentences(paragraph, [xref for _, xref, _ in entries], names)
        if sentences is None:
            logger.debug("citing xrefs of a paragraph could not be located; skipped")
            continue
        for (position, _, targets), sentence in zip(entries, sentences, strict=True):
            found.extend((position, figure, sentence) for figure in targets if sentence)
    for _, figure, sentence in sorted(found, key=lambda item: item[0]):
        if sentence not in figure.mentions:
            figure.mentions.append(sentence)


def _running_text_paragraph(el: etree._Element, names: Names) -> etree._Element | None:
    """The paragraph that is or holds `el`, or None when `el` is not running text (it sits
    in a caption, a figure, a table, the reference list or the front matter)."""
    paragraph_tag, excluded = names("p"), names.many(_NOT_RUNNING_TEXT)
    paragraph = None
    ancestor = el
    while ancestor is not None:
        tag = ancestor.tag
        if tag in excluded:
            return None
        if paragraph is None and tag == paragraph_tag:
            paragraph = ancestor
        ancestor = ancestor.getparent()
    return paragraph


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
