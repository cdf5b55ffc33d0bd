"""Text out of JATS elements: captions with correct spacing, and the sentences that cite a
figure.

Both read text with XPath `string()`, which libxml2 concatenates in C, rather than a
Python walk over every node (this runs over ~25 million figures). Both prepare the
subtree first by editing it in place: a space after every block element, so
'Title.</title><p>First' does not glue into 'Title.First'; duplicate math notations
dropped; a marker in front of each citing <xref> so its sentence can be found in the
joined text. The tree is the parser's own private copy, so the edits are safe; callers
take what they need from an element before editing it.
"""

from __future__ import annotations

import bisect
import re

from lxml import etree

from .jats_xml import MATHML_NS, Names, string_value

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

# A private marker put in front of each citing <xref>: a Unicode noncharacter, reserved for
# exactly this kind of internal use, so real text does not contain it.
MARK = "\ufdd0"
# Words that end in a full stop without ending the sentence, as biomedical prose uses them
# ('Fig. 2', 'Smith et al. (2001)', 'e.g. A549 cells'); a single capital is an initial.
_ABBREVIATIONS = (
    "Fig Figs fig figs al e.g i.e vs cf ca approx Eq Eqs eq eqs Ref Refs ref refs No no "
    "Nos Dr Mr Mrs Ms Prof St sp spp subsp var Inc Ltd Co Corp resp Suppl Vol vol pp Ed Eds"
).split()


def _not_after_abbreviation() -> str:
    # Python's lookbehinds must be fixed-width: one per word length, an alternation inside.
    by_length: dict[int, list[str]] = {}
    for word in _ABBREVIATIONS:
        by_length.setdefault(len(word), []).append(re.escape(word))
    return "".join(rf"(?<!\b(?:{'|'.join(words)})\.)" for words in by_length.values())


def _boundary(punctuation: str) -> re.Pattern:
    """A sentence boundary at `punctuation`: not after an abbreviation or an initial, then
    closing quotes or brackets, space, and what can start a sentence: a capital, possibly
    behind an opening quote or a marked <xref>. The pattern opens with a literal character,
    which re finds fast, and checks the cheap lookahead before the lookbehinds."""
    closing, opening = r"[\"'\u201d\u2019)\]]*", r"[\"'\u201c\u2018]?"
    return re.compile(
        re.escape(punctuation)
        + rf"(?={closing}\s+{MARK}*{opening}[A-Z])"
        + _not_after_abbreviation()
        + r"(?<!\b[A-Z]\.)"
        + rf"{closing}\s+"
    )


# One pattern per punctuation mark: three literal scans beat one scan for a character set.
_BOUNDARIES = {punctuation: _boundary(punctuation) for punctuation in ".?!"}


def collapse(text: str) -> str:
    """Runs of whitespace (any Unicode space, NBSP included) as one space, ends stripped."""
    return " ".join(text.split())


def text_of(el: etree._Element | None) -> str | None:
    """The whitespace-collapsed text content of `el`, None when it is absent or empty."""
    if el is None:
        return None
    return collapse((el.text or "") if len(el) == 0 else string_value(el)) or None


def block_text(el: etree._Element, names: Names) -> str:
    """The full text of a caption-like element: every block separated by a space, inline
    markup joined as written, MathML as its text content (TeX only when no MathML version
    exists), whitespace collapsed. Edits `el` in place (see the module docstring)."""
    blocks = names.many(_BLOCKS)
    tex_math, alternatives = names("tex-math"), names("alternatives")
    drop = []
    # All nodes, filtered here: a caption is small, and lxml's tag-filtered iterator costs
    # more to set up for this many tags than the walk itself.
    for child in el.iter():
        tag = child.tag
        if tag in blocks:
            # A space after the block, and one before it unless another block (whose tail
            # is padded) or nothing at all comes before it.
            child.tail = " " + child.tail if child.tail else " "
            previous = child.getprevious()
            if child.getparent().text if previous is None else previous.tag not in blocks:
                child.text = " " + child.text if child.text else " "
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
    return collapse(string_value(el))


def _remove_keeping_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def citing_sentences(
    paragraph: etree._Element, xrefs: list[etree._Element], names: Names
) -> list[str] | None:
    """The sentence of `paragraph` that holds each of `xrefs` (given in document order),
    whitespace collapsed, or None when they cannot all be located in its text."""
    saved = [x.text for x in xrefs]
    for xref, text in zip(xrefs, saved, strict=True):
        xref.text = MARK + text if text else MARK
    try:
        text = string_value(paragraph)
    finally:
        for xref, original in zip(xrefs, saved, strict=True):
            xref.text = original
    marks = list(_find_all(text, MARK))
    if len(marks) != len(xrefs):
        return None  # the text held a marker of its own
    # Sentences are cut in the raw text and only the cited ones are collapsed: collapsing
    # whole paragraphs is most of the cost of this step.
    starts = sentence_starts(text)
    sentences = []
    for position in marks:
        i = bisect.bisect_right(starts, position) - 1
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        sentences.append(collapse(text[starts[i] : end].replace(MARK, "")))
    return sentences


def _find_all(text: str, needle: str):
    i = text.find(needle)
    while i >= 0:
        yield i
        i = text.find(needle, i + 1)


def sentence_starts(text: str) -> list[int]:
    """Offsets at which the sentences of `text` start (the first is always 0)."""
    starts = [0]
    for punctuation, boundary in _BOUNDARIES.items():
        if punctuation in text:
            starts.extend(map(re.Match.end, boundary.finditer(text)))
    starts.sort()
    return starts
