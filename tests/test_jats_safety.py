"""Unsafe and hostile JATS: refused before it costs memory, never fetched or expanded."""

from __future__ import annotations

import pytest
from helpers.jats_docs import NXML_DOCTYPE, article, fig, nxml

from pmc_pipeline.jats import parse_article, xmltree
from pmc_pipeline.model import ParseError, UnsafeInput

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE article [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<article><body><fig id="F1"><caption><p>&lol9;</p></caption></fig></body></article>
"""


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail the test if lxml is asked to parse anything."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the document reached the XML parser")

    monkeypatch.setattr(xmltree.etree, "fromstring", refuse)


def test_a_document_over_the_size_cap_is_refused_before_parsing(no_parsing):
    xml = nxml(fig("F1"))
    with pytest.raises(UnsafeInput, match=f"{len(xml)} bytes, over the 100 byte cap"):
        parse_article(xml, max_bytes=100)


def test_a_document_at_the_size_cap_is_read():
    xml = nxml(fig("F1"))
    assert len(parse_article(xml, max_bytes=len(xml)).figures) == 1


@pytest.mark.parametrize(
    "xml",
    [
        BILLION_LAUGHS,
        # an external entity: would read a local file
        b'<!DOCTYPE article [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<article><body><p>&xxe;</p></body></article>",
        # a parameter entity pulling a remote DTD
        b'<!DOCTYPE article [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
        b"<article/>",
        # entity declarations after a comment, with an external subset as well
        b'<?xml version="1.0"?><!-- note --><!DOCTYPE article SYSTEM "JATS.dtd" '
        b'[<!ENTITY a "A">]><article><body><p>&a;</p></body></article>',
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity", "after-comment"],
)
def test_entity_declarations_are_refused_before_parsing(xml, no_parsing):
    with pytest.raises(UnsafeInput, match="entity expansion refused"):
        parse_article(xml)


def test_entity_declarations_in_utf16_are_refused_after_a_parse_that_expands_nothing():
    # The byte-level check cannot read UTF-16; libxml2 decodes it (resolve_entities off),
    # and the declared entities are found in the parsed DTD.
    xml = '<!DOCTYPE article [<!ENTITY e "EEE">]><article><body><p>&e;</p></body></article>'
    with pytest.raises(UnsafeInput, match="entity expansion refused"):
        parse_article(xml.encode("utf-16"))


def test_an_internal_subset_without_entities_is_harmless():
    xml = b"<!DOCTYPE article [<!ELEMENT article ANY>]><article><body/></article>"
    assert parse_article(xml).figures == []


def test_an_external_dtd_is_never_fetched():
    # Port 9 (discard) on localhost: a fetch would fail or hang; no fetch is tried.
    xml = (
        b'<!DOCTYPE article SYSTEM "http://127.0.0.1:9/JATS-archivearticle1.dtd">'
        + article(fig("F1")).encode()
    )
    assert [f.id for f in parse_article(xml).figures] == ["F1"]


@pytest.mark.parametrize("with_doctype", [True, False], ids=["nxml-doctype", "no-doctype"])
def test_named_entities_without_their_dtd_keep_the_text_around_them(with_doctype):
    caption = "<p>Dose&nbsp;10&thinsp;mg of &alpha;-actin &unknownentity;stain&mdash;blue.</p>"
    doc = article(fig("F1", caption, label="Figure&nbsp;1"))
    xml = ((NXML_DOCTYPE if with_doctype else "") + doc).encode()
    (figure,) = parse_article(xml).figures
    assert figure.caption == "Dose 10 mg of α-actin stain—blue."
    assert figure.label == "Figure 1"


def test_the_five_xml_entities_and_character_references_are_read_as_usual():
    caption = "<p>a &lt; b &amp;&amp; c &gt; d, &quot;q&quot; &apos;s&apos; &#945;&#x3B2;</p>"
    (figure,) = parse_article(nxml(fig("F1", caption))).figures
    assert figure.caption == "a < b && c > d, \"q\" 's' αβ"


def test_excessive_nesting_is_a_parse_error_not_a_crash():
    deep = b"<article><body>" + b"<p>" * 5000 + b"x" + b"</p>" * 5000 + b"</body></article>"
    with pytest.raises(ParseError, match="not well-formed"):
        parse_article(deep)


def test_a_string_is_not_accepted_as_bytes():
    with pytest.raises(TypeError, match="bytes"):
        parse_article("<article/>")  # type: ignore[arg-type]
