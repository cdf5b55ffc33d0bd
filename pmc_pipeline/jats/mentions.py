"""In-text mentions: the sentences of running text that cite a figure through
<xref rid="...">, an xref naming several ids ('F1 F2') counting for each.

For each paragraph holding citing xrefs: the floats placed inside it (a figure, a table)
are removed from it, a private marker is put in front of each xref, the paragraph's text is
read in one C call, and the sentence around each marker is cut out and collapsed. Only the
boundaries next to a marker are looked for, not every sentence of the paragraph.
"""

from __future__ import annotations

import re

from lxml import etree

from pmc_pipeline.model import Figure

from .scan import FLOATS, Scan
from .text import collapse
from .xmltree import Names, text_content

# The markers put in front of each citing <xref>. First DEL: legal in XML 1.0 but never
# in running text, and ASCII, so a paragraph of ASCII text stays ASCII, which every string
# operation after it handles fastest. Should a paragraph hold one itself, the Unicode
# noncharacter reserved for exactly this kind of internal use is tried instead (and if the
# paragraph holds that too, it is skipped, not misread).
MARKS = ("\x7f", "\ufdd0")
_MARKS = "[" + "".join(MARKS) + "]"  # either, in a pattern
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
    behind an opening quote or a marked <xref>. The match ends where the next sentence
    starts. The pattern opens with a literal character, which re finds fast, and checks
    the cheap lookahead before the lookbehinds."""
    closing, opening = r"[\"'\u201d\u2019)\]]*", r"[\"'\u201c\u2018]?"
    return re.compile(
        re.escape(punctuation)
        + rf"(?={closing}\s+{_MARKS}*{opening}[A-Z])"
        + _not_after_abbreviation()
        + r"(?<!\b[A-Z]\.)"
        + rf"{closing}\s+"
    )


_BOUNDARIES = {punctuation: _boundary(punctuation) for punctuation in ".?!"}


def attach_mentions(scan: Scan, figures: list[Figure], names: Names) -> None:
    """Give each figure the sentences that cite it, in document order, each once."""
    by_id = {f.id: f for f in figures if f.id}
    if not by_id:
        return
    paragraph_tag = names("p")
    # paragraph -> its citing xrefs as (document position, xref, cited figures)
    cited: dict[etree._Element, list[tuple[int, etree._Element, list[Figure]]]] = {}
    for position, xref in enumerate(scan.citing_xrefs):
        targets = [by_id[rid] for rid in (xref.get("rid") or "").split() if rid in by_id]
        paragraph = _paragraph_of(xref, paragraph_tag) if targets else None
        if paragraph is not None:
            cited.setdefault(paragraph, []).append((position, xref, targets))
    found: list[tuple[int, Figure, str]] = []
    for paragraph, entries in cited.items():
        if paragraph in scan.float_holders:
            # A paragraph nested in a removed float stays readable through its proxy.
            etree.strip_elements(paragraph, *names.many(FLOATS), with_tail=False)
        sentences = citing_sentences(paragraph, [xref for _, xref, _ in entries])
        if sentences is None:
            continue
        for (position, _, targets), sentence in zip(entries, sentences, strict=True):
            found.extend((position, figure, sentence) for figure in targets if sentence)
    for _, figure, sentence in sorted(found, key=lambda item: item[0]):
        if sentence not in figure.mentions:
            figure.mentions.append(sentence)


def _paragraph_of(xref: etree._Element, paragraph_tag: str) -> etree._Element | None:
    el = xref.getparent()  # usually the paragraph itself, or an <italic> inside it
    while el is not None and el.tag != paragraph_tag:
        el = el.getparent()
    return el


def citing_sentences(paragraph: etree._Element, xrefs: list[etree._Element]) -> list[str] | None:
    """The sentence of `paragraph` around each of `xrefs` (given in document order),
    whitespace collapsed, or None when they cannot all be found in its text."""
    for mark in MARKS:
        found = _marked_text(paragraph, xrefs, mark)
        if found is not None:
            text, marks = found
            break
    else:
        return None  # the text held both markers of its own
    present = [p for p in _BOUNDARIES if p in text]
    spans = [sentence_around(text, position, present) for position in marks]
    sentences = {span: collapse(text[slice(*span)].replace(mark, "")) for span in set(spans)}
    return [sentences[span] for span in spans]


def _marked_text(
    paragraph: etree._Element, xrefs: list[etree._Element], mark: str
) -> tuple[str, list[int]] | None:
    """The text of `paragraph` with `mark` in front of each of `xrefs`, and the offsets of
    the marks; None when the text holds a mark of its own."""
    saved = [x.text for x in xrefs]
    for xref, text in zip(xrefs, saved, strict=True):
        xref.text = mark + text if text else mark
    try:
        text = text_content(paragraph)
    finally:  # an outer paragraph holding this one must not see these markers
        for xref, original in zip(xrefs, saved, strict=True):
            xref.text = original
    marks = []
    position = text.find(mark)
    while position >= 0:
        marks.append(position)
        position = text.find(mark, position + 1)
    return (text, marks) if len(marks) == len(xrefs) else None


def sentence_around(text: str, position: int, present: list[str] | None = None) -> tuple[int, int]:
    """(start, end) of the sentence of `text` holding offset `position`; `present` names
    the end punctuation found in `text` (all three when not given)."""
    present = list(_BOUNDARIES) if present is None else present
    start, before = 0, position
    while True:  # the last boundary before the position
        before = _last_of(text, present, before)
        if before < 0:
            break
        boundary = _BOUNDARIES[text[before]].match(text, before)
        if boundary is not None and boundary.end() <= position:
            start = boundary.end()
            break
    end = len(text)
    for punctuation in present:  # the first boundary after it
        boundary = _BOUNDARIES[punctuation].search(text, position, end)
        if boundary is not None:
            end = boundary.end()
    return start, end


def _last_of(text: str, characters: list[str], end: int) -> int:
    """The offset of the last of `characters` in text[:end], or -1."""
    if len(characters) == 1:  # the usual case: full stops only
        return text.rfind(characters[0], 0, end)
    return max([text.rfind(c, 0, end) for c in characters], default=-1)
