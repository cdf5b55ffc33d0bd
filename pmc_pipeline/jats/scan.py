"""One pass over a JATS article: the figure elements, with where they sit, and the <xref>s
that may cite them from running text.

A pass over every node costs about a tenth of the parse itself, so there is exactly one,
and it skips the reference lists: they hold neither figures nor running text and are most
of a typical article's nodes. Whatever the pass can tell cheaply (which part of the
article a figure is in, whether a boxed-text came before it, which <xref>s sit inside a
float) saves a walk up the tree per figure or per citation later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .xmltree import Names

# Floats that may sit inside a paragraph: not part of its sentences, and what they hold
# (captions, table cells) is not running text.
FLOATS: tuple[str, ...] = ("fig", "fig-group", "table-wrap", "table-wrap-group", "boxed-text")
FLOATS += ("supplementary-material", "media")
# Where a figure sits, most telling first: a figure in a fig-group inside an appendix is
# placed 'app' (its group is still named by parent_group); anything else is 'body'.
PLACEMENTS = ("sub-article", "app", "boxed-text", "fig-group", "floats-group")
_PART_PLACEMENTS = {"sub-article": "sub-article", "floats-group": "floats-group"}
_BACK_PLACEMENTS = {"app-group": "app", "app": "app"}
_CITING_TYPES = frozenset({"fig", "table"})


@dataclass
class FigureElement:
    """A <fig> or table-as-image, and what the pass knows of where it sits."""

    element: etree._Element
    part: str  # the placement its part of the article gives: body, app, sub-article...
    after_boxed_text: bool  # a <boxed-text> came before it in that part: it may be inside


@dataclass
class Scan:
    figures: list[FigureElement] = field(default_factory=list)
    citing_xrefs: list[etree._Element] = field(default_factory=list)  # running text only
    float_holders: set[etree._Element] = field(default_factory=set)  # <p>s holding floats


def scan_article(article_el: etree._Element, names: Names) -> Scan:
    """Figures and tables-as-images in document order, and the fig/table <xref>s of the
    running text (not in a caption, table, figure or the front matter)."""
    scan = Scan()
    fig, table_wrap, boxed_text, paragraph, xref = (
        names("fig"),
        names("table-wrap"),
        names("boxed-text"),
        names("p"),
        names("xref"),
    )
    wanted = (*names.many(FLOATS), xref)
    floats: list[etree._Element] = []  # whose <xref>s are not running text
    xrefs: list[etree._Element] = []  # fig/table <xref>s outside the front matter
    for part, section in _sections(article_el, names):
        after_boxed_text = False
        in_front = part == "front"  # an abstract's citations are not the article's text
        # One walk for floats and <xref>s alike: the walk over every node is the cost.
        for el in section.iter(*wanted):
            tag = el.tag
            if tag == xref:
                # Thousands of <xref>s per article, mostly to references: a bytes key
                # spares lxml encoding it on each call.
                if not in_front and el.get(b"ref-type") in _CITING_TYPES:
                    xrefs.append(el)
                continue
            parent = el.getparent()
            if parent is not None and parent.tag == paragraph:
                scan.float_holders.add(parent)
            if tag == boxed_text:
                after_boxed_text = True
                continue  # its paragraphs are running text
            if tag == fig or (tag == table_wrap and _is_table_image(el, names)):
                scan.figures.append(FigureElement(el, part, after_boxed_text))
            floats.append(el)
    if scan.figures and xrefs:  # no figure, nothing to cite
        # captions, table cells: an <xref> there is not a citation from running text
        inside_floats = {x for el in floats for x in el.iter(xref)}
        scan.citing_xrefs = [x for x in xrefs if x not in inside_floats]
    return scan


def _sections(article_el: etree._Element, names: Names):
    """(placement the part gives, element) for each part of the article to scan."""
    back, ref_list, front = names("back"), names("ref-list"), names("front")
    parts = {names(tag): placement for tag, placement in _PART_PLACEMENTS.items()}
    in_back = {names(tag): placement for tag, placement in _BACK_PLACEMENTS.items()}
    for part in article_el:
        tag = part.tag
        if tag == back:
            for section in part:
                if section.tag != ref_list:
                    yield in_back.get(section.tag, "body"), section
        elif tag == front:
            yield "front", part  # a figure in an abstract (graphical abstracts)
        else:
            yield parts.get(tag, "body"), part


def _is_table_image(table_wrap: etree._Element, names: Names) -> bool:
    table, graphic = names("table"), names("graphic")
    if next(table_wrap.iterchildren(table), None) is not None:
        return False  # the usual case, answered without walking a large table
    return (
        next(table_wrap.iter(graphic), None) is not None
        and next(table_wrap.iter(table), None) is None
        and next(table_wrap.iterancestors(names("fig")), None) is None  # part of its figure
    )


def placement(found: FigureElement, names: Names) -> tuple[str, str | None]:
    """Where the figure sits (see PLACEMENTS) and the id of its enclosing <fig-group>."""
    el = found.element
    parent = el.getparent()
    in_group = parent is not None and parent.tag == names("fig-group")
    group = None
    if in_group:
        # eLife's fig-groups have no id: name the group by its first (main) figure.
        first = next(parent.iterchildren(names("fig")), None)
        group = parent.get("id") or (first.get("id") if first is not None else None)
    if found.part in ("sub-article", "app"):
        return found.part, group
    if found.after_boxed_text and next(el.iterancestors(names("boxed-text")), None) is not None:
        return "boxed-text", group
    if in_group:
        return "fig-group", group
    return ("body" if found.part == "front" else found.part), group
