"""Reading JATS bytes into an lxml tree safely, and naming JATS elements in either namespace.

Safety, in the order it is applied:
- a document over the size cap is refused before lxml sees a byte;
- a DOCTYPE whose internal subset declares entities (billion laughs, external entities) is
  refused; no DTD is ever loaded and nothing is fetched from the network;
- named entity references other than XML's five (`&nbsp;`, `&alpha;`) cannot be defined
  without the DTD, so they are rewritten to the character the JATS/HTML entity sets give
  them (unknown names are dropped). This is a fixed one-name-to-one-character table, not
  entity expansion: the text around the reference is kept and the document cannot grow.
"""

from __future__ import annotations

import html.entities
import re
import threading

from lxml import etree

from pmc_pipeline.model import ParseError, UnsafeInput

from .refs import CUT_ATTRIBUTE, cut_reference_lists

JATS_NS = "https://jats.nlm.nih.gov/ns/archiving/1.3/"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
ALI_LICENSE_REF = "{http://www.niso.org/schemas/ali/1.0/}license_ref"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"

# What may come before a DOCTYPE: a byte-order mark, whitespace, the XML declaration,
# comments and processing instructions.
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
# A DOCTYPE declaration, capturing the '[' that opens an internal subset when there is one.
_DOCTYPE = re.compile(
    rb"<!DOCTYPE\s+[^\s>\[]+"
    rb"(?:\s+(?:PUBLIC\s+(?:\"[^\"]*\"|'[^']*')|SYSTEM))?"
    rb"(?:\s+(?:\"[^\"]*\"|'[^']*'))?"
    rb"\s*(\[)?"
)
# A named entity reference that is not one of XML's five predefined entities.
_NAMED_REF = re.compile(rb"&(?!(?:lt|gt|amp|quot|apos);)([A-Za-z_][A-Za-z0-9._-]*);")
_UNDECLARED = frozenset(
    {etree.ErrorTypes.ERR_UNDECLARED_ENTITY, etree.ErrorTypes.WAR_UNDECLARED_ENTITY}
)

_ENTITIES_REFUSED = "DOCTYPE internal subset declares entities; entity expansion refused"

_local = threading.local()  # lxml parsers must not be shared between threads


def _parser() -> etree.XMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,  # keep libxml2's depth and text-node limits
            remove_comments=True,  # comments and PIs are never caption text
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def _char_ref(match: re.Match) -> bytes:
    name = match.group(1).decode("ascii")
    chars = html.entities.html5.get(name + ";")
    if chars is None:
        return b""  # unknown name: drop the reference, keep the text around it
    return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")


def _read_prolog(xml: bytes) -> tuple[bool, bool]:
    """(whether the document has a DOCTYPE, whether its internal subset may declare
    entities); (True, True) when the prolog cannot be read as ASCII-compatible bytes, so
    that the checks after parsing run. Only the prolog is read, so this costs nothing on
    a large document."""
    prolog = _PROLOG.match(xml)  # always matches: every part of it is optional
    start = prolog.end() if prolog else 0
    if xml.startswith(b"<!DOCTYPE", start):
        doctype = _DOCTYPE.match(xml, start)
        internal_subset = doctype is None or doctype.group(1) is not None
        return True, internal_subset and b"<!ENTITY" in xml
    if xml.startswith(b"<", start):
        return False, False  # straight to the root element
    return True, True  # UTF-16, EBCDIC...: let libxml2 decode it, then check


def _parse(xml: bytes, read_warnings: bool) -> tuple[etree._Element | None, bool, str | None]:
    """(root or None, whether undeclared named entities were met, the error if any)."""
    parser = _parser()
    error: str | None
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        root, error = None, str(exc)
    else:
        error = None
    # Without a DOCTYPE an undeclared entity is an error; with one, only a warning (and
    # the reference would stay in the tree as '&nbsp;'). The parser's own log is read:
    # the exception's may still hold an error of the previous document.
    undeclared = (read_warnings or root is None) and any(
        e.type in _UNDECLARED for e in parser.error_log
    )
    return root, undeclared, error


def parse_xml(xml: bytes, max_bytes: int, *, skip_references: bool = False) -> etree._Element:
    """The root element of `xml`, parsed safely; UnsafeInput or ParseError with a reason.

    With `skip_references`, the reference lists at the end of the main article's <back>
    are not parsed (see refs.py): they come out empty, and a document that is not
    well-formed only inside them is read."""
    if not isinstance(xml, (bytes, bytearray, memoryview)):
        raise TypeError(f"JATS must be given as bytes, not {type(xml).__name__}")
    xml = bytes(xml)
    if len(xml) > max_bytes:
        raise UnsafeInput(f"document is {len(xml)} bytes, over the {max_bytes} byte cap")
    if xml.isspace() or not xml:  # isspace() stops at the first other byte: cheap
        raise ParseError("empty document")
    has_doctype, may_declare = _read_prolog(xml)
    if may_declare:
        _refuse_entity_declarations(xml)
    if skip_references:
        cut, count = cut_reference_lists(xml)
        if count:
            root, _ = _parse_document(cut, has_doctype, may_declare)
            if root is not None and _cut_from_back(root, count):
                return root
            # The cut went wrong (or the document is not well-formed): read it whole.
    root, error = _parse_document(xml, has_doctype, may_declare)
    if root is None:
        raise ParseError(f"not well-formed XML: {error}")
    return root


def _parse_document(
    xml: bytes, has_doctype: bool, may_declare: bool
) -> tuple[etree._Element | None, str | None]:
    """(root, None) or (None, the parser's error)."""
    root, undeclared, error = _parse(xml, read_warnings=has_doctype)
    if undeclared:  # rare: rewrite the named references and parse once more
        root, _, error = _parse(_NAMED_REF.sub(_char_ref, xml), read_warnings=False)
    if root is not None and may_declare:  # an encoding the prolog check could not read
        dtd = root.getroottree().docinfo.internalDTD
        if dtd is not None and any(True for _ in dtd.iterentities()):
            raise UnsafeInput(_ENTITIES_REFUSED)
    return root, error


def _cut_from_back(root: etree._Element, count: int) -> bool:
    """Whether all `count` cut reference lists are direct children of the main article's
    <back>, the one place the figure scan skips, each followed by markup, not text: text
    there is what is left of a comment or PI whose '</ref-list>' the search took for the
    list's end, and the cut may then have taken more than the list."""
    try:
        article = find_article(root)
    except ParseError:
        return False
    names = names_for(article)
    back = child(article, names("back"))
    if back is None:
        return False
    ref_list = names("ref-list")
    cut = [el for el in back if el.tag == ref_list and el.get(CUT_ATTRIBUTE) is not None]
    return len(cut) == count and not any(el.tail and not el.tail.isspace() for el in cut)


def _refuse_entity_declarations(xml: bytes) -> None:
    doctype = _DOCTYPE.search(xml)
    if doctype is not None and doctype.group(1) and b"<!ENTITY" in xml:
        raise UnsafeInput(_ENTITIES_REFUSED)


def text_content(el: etree._Element) -> str:
    """All descendant text of `el`, concatenated in C (XPath string(), without the cost
    of an XPath evaluation)."""
    if len(el) == 0:
        return el.text or ""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


def child(el: etree._Element, tag: str) -> etree._Element | None:
    """The first direct child of `el` named `tag`. A plain loop: lxml's find() and
    tag-filtered iterators cost more to set up than the few children they skip."""
    for candidate in el:
        if candidate.tag == tag:
            return candidate
    return None


def children(el: etree._Element) -> dict[str, list[etree._Element]]:
    """The direct children of `el` by tag, in document order."""
    by_tag: dict[str, list[etree._Element]] = {}
    for candidate in el:
        by_tag.setdefault(candidate.tag, []).append(candidate)
    return by_tag


_ARTICLE_TAGS = ("article", f"{{{JATS_NS}}}article")


def find_article(root: etree._Element) -> etree._Element:
    """The JATS <article>: the root itself, or the first one inside a wrapper (OAI-PMH
    GetRecord, PMC's <pmc-articleset>)."""
    if root.tag in _ARTICLE_TAGS:
        return root
    article = next(root.iter(*_ARTICLE_TAGS), None)
    if article is None:
        root_name = etree.QName(root).localname if isinstance(root.tag, str) else root.tag
        raise ParseError(f"no JATS <article> element (root is <{root_name}>)")
    return article


class Names:
    """Clark-notation names of the JATS elements we read, in the article's namespace (none
    for classic nxml, JATS_NS for OAI-PMH-wrapped records). One instance per namespace, so
    it hashes by identity, fast, where it keys a cache; sets of names are built once."""

    __slots__ = ("ns", "_sets")

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self._sets: dict[tuple[str, ...], tuple[tuple[str, ...], frozenset[str]]] = {}

    def __call__(self, localname: str) -> str:
        return f"{{{self.ns}}}{localname}" if self.ns else localname

    def many(self, localnames: tuple[str, ...]) -> tuple[str, ...]:
        """The names of several elements, in order (for lxml's iter(*tags))."""
        return self._both(localnames)[0]

    def set_of(self, localnames: tuple[str, ...]) -> frozenset[str]:
        """The names of several elements, for membership tests: an element's tag is a new
        string on each access, so a tuple would compare it character by character."""
        return self._both(localnames)[1]

    def _both(self, localnames: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
        found = self._sets.get(localnames)
        if found is None:
            names = tuple(self(name) for name in localnames)
            found = self._sets[localnames] = (names, frozenset(names))
        return found


_NAMES = {"": Names(""), JATS_NS: Names(JATS_NS)}


def names_for(article: etree._Element) -> Names:
    """The names in the namespace of `article` (as find_article returns it)."""
    return _NAMES[JATS_NS if article.tag.startswith("{") else ""]
