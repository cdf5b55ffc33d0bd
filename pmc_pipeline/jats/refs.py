"""Cutting the reference lists out of JATS bytes, so that lxml does not build them.

The reference list is the largest part of most research articles (about 40% of the
bytes of the fixture corpus, and about 60% of its elements) and nothing the pipeline
outputs reads it: no figure, caption, mention or metadata field comes from a <ref>. Parsing
is most of the cost of reading an article, so parse_article cuts the reference lists
at the end of the main article's <back> out of the bytes before lxml sees them: each
`<ref-list ...>...</ref-list>` becomes an empty `<ref-list ... pmc-pipeline-cut="1"/>`.

The cut is a byte search, so it is checked, never trusted (see xmltree.parse_xml):
the cut document must parse, and every cut list must come out as a direct child of the
main article's <back>, which is where the figure scan never looks (scan.py skips
them); otherwise the whole document is parsed as given. What a cut does change: the
markup inside a cut reference list is not read, so a document that is well-formed
except inside its reference list is read instead of refused
(`parse_article(xml, read_references=True)` parses everything).

The search runs backwards from the end of the document, where <back> sits, so it reads
the reference list's bytes once and little else: an article with none costs one search
for `</ref-list>`. It cuts the last list and those written just before it. Only the
unprefixed names are looked for (classic nxml, cloud XML and the OAI-PMH records, whose
JATS is in the default namespace); anything else is left as it is.
"""

from __future__ import annotations

CUT_ATTRIBUTE = "pmc-pipeline-cut"

_OPEN = b"<ref-list"
_CLOSE = b"</ref-list>"
_BACK = b"<back"
_CUT = b" " + CUT_ATTRIBUTE.encode("ascii") + b'="1"/>'
# What may follow an element's name in its start tag.
_NAME_ENDS = frozenset(bytes([c]) for c in b" \t\r\n/>")


def cut_reference_lists(xml: bytes) -> tuple[bytes, int]:
    """`xml` with its last reference list emptied, and any written just before it (only
    whitespace between), and how many were cut (0, and `xml` itself, when none)."""
    pieces: list[bytes] = []  # the document from its end backwards
    kept_from = len(xml)  # xml[kept_from:] is in pieces already
    end = xml.rfind(_CLOSE)
    while end >= 0:
        start = _rfind_start_tag(xml, _OPEN, 0, end)
        if start < 0:
            break
        tag_end = xml.find(b">", start, end)
        if tag_end < 0 or xml[tag_end - 1] == ord("/"):  # <ref-list/>: not the one to cut
            break
        if not pieces and not _in_back(xml, start):  # in the body, say: the scan reads it
            break
        pieces.append(xml[end + len(_CLOSE) : kept_from])
        pieces.append(xml[start:tag_end] + _CUT)
        kept_from = start
        window = xml[max(0, start - 64) : start]  # another list just before this one?
        before = window.rstrip()
        if not before.endswith(_CLOSE):
            break
        end = start - (len(window) - len(before)) - len(_CLOSE)
    if not pieces:
        return xml, 0
    pieces.append(xml[:kept_from])
    return b"".join(reversed(pieces)), len(pieces) // 2


def _in_back(xml: bytes, position: int) -> bool:
    """Whether a <back> is open at `position` (searched backwards: short when it is)."""
    back = _rfind_start_tag(xml, _BACK, 0, position)
    return back >= 0 and xml.find(b"</back>", back, position) < 0


def _rfind_start_tag(xml: bytes, name: bytes, start: int, end: int) -> int:
    """The offset of the last start tag `name` (b'<ref-list') in xml[start:end], or -1;
    b'<ref-listing' does not count."""
    position = xml.rfind(name, start, end)
    after = len(name)
    while position >= 0 and xml[position + after : position + after + 1] not in _NAME_ENDS:
        position = xml.rfind(name, start, position)
    return position
