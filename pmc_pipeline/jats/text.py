"""Text out of JATS elements: labels, titles and full captions with correct spacing.

Text is read by libxml2 in C (see xmltree.text_content) rather than by a Python walk over
every node: this runs over ~25 million figures. For a caption, the subtree is prepared
first by editing it in place: a space after every block element, so
'Title.</title><p>First' does not glue into 'Title.First', and duplicate math notations
dropped. The tree is the parser's own private copy, so the edits are safe; callers take
what they need from an element before handing it to block_text.
"""

from __future__ import annotations

import re

from lxml import etree

from .xmltree import MATHML_NS, Names, text_content

# JATS elements that start a block of text inside a caption (or a paragraph): inline markup
# (<italic>, <sub>, <xref>, MathML) is left alone, since its spacing is already in the text.
_BLOCKS = (
    "title",
    "p",
    "label",
    "list",
    "list-item",
    "def-list",
    "def-item",
    "term",
    "def",
    "disp-formula",
    "disp-quote",
    "attrib",
    "object-id",
    "supplementary-material",
    "statement",
    "table",
    "tr",
    "th",
    "td",
    "break",
)
_MATHML_MATH = f"{{{MATHML_NS}}}math"
# MathML annotations repeat the formula in another notation (usually TeX).
_MATHML_ANNOTATIONS = (f"{{{MATHML_NS}}}annotation", f"{{{MATHML_NS}}}annotation-xml")
_TEX_BODY = re.compile(r"\\begin\{document\}(.*?)\\end\{document\}", re.DOTALL)


# Whitespace other than a plain space: a newline, a tab, NBSP, a thin space...
_NOT_A_SPACE = re.compile(r"[^\S ]")


def collapse(text: str) -> str:
    """Runs of whitespace (any Unicode space, NBSP included) as one space, ends stripped.
    Text that is collapsed already is only stripped: split() would allocate every word."""
    if text.isascii():  # known without reading it; XML text has no other ASCII spaces
        collapsed = "  " not in text and "\n" not in text and "\t" not in text
        if collapsed and "\r" not in text and "\x0b" not in text and "\x0c" not in text:
            return text.strip()
    elif "  " not in text and not _NOT_A_SPACE.search(text):
        return text.strip()
    return " ".join(text.split())


def text_of(el: etree._Element | None) -> str | None:
    """The whitespace-collapsed text content of `el`, None when it is absent or empty."""
    if el is None:
        return None
    return collapse((el.text or "") if len(el) == 0 else text_content(el)) or None


def block_text(el: etree._Element, names: Names) -> str:
    """The full text of a caption-like element: every block separated by a space, inline
    markup joined as written, MathML as its text content (TeX only when no MathML version
    exists), whitespace collapsed. Edits `el` in place (see the module docstring)."""
    blocks = names.set_of(_BLOCKS)
    tex_math, alternatives = names("tex-math"), names("alternatives")
    drop = []
    # All nodes, filtered here: a caption is small, and lxml's tag-filtered iterator costs
    # more to set up for this many tags than the walk itself.
    for child in el.iter():
        tag = child.tag
        if tag in blocks:
            # A space after the block, and one before it unless another block (whose tail
            # is padded) or nothing at all comes before it; none where the XML has one.
            tail = child.tail
            if not tail or not tail[0].isspace():
                child.tail = " " + tail if tail else " "
            previous = child.getprevious()
            if child.getparent().text if previous is None else previous.tag not in blocks:
                text = child.text
                if not text or not text[0].isspace():
                    child.text = " " + text if text else " "
        elif tag == tex_math:
            parent = child.getparent()
            if parent.tag == alternatives and parent.find(_MATHML_MATH) is not None:
                drop.append(child)  # the MathML sibling says the same, readably
            else:
                body = _TEX_BODY.search(child.text or "")
                if body:  # keep the formula, not the LaTeX preamble PMC wraps it in
                    child.text = body.group(1)
        elif tag in _MATHML_ANNOTATIONS:
            drop.append(child)
    for child in drop:
        _remove_keeping_tail(child)
    return collapse(text_content(el))


def _remove_keeping_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
