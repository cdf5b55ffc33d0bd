"""The reference lists are cut out of the bytes before parsing (pmc_pipeline/jats/refs.py), and the result
is checked: what parse_article returns must be what it returns with everything parsed."""

from __future__ import annotations

import pytest
from helpers.jats_docs import fig, nxml, oai_pmh
from helpers.jats_fixtures import fixture_names, parsed
from lxml import etree

from pmc_pipeline.jats import article_to_json, parse_article, xmltree
from pmc_pipeline.jats.refs import CUT_ATTRIBUTE, cut_reference_lists
from pmc_pipeline.model import ParseError, UnsafeInput

REFS = (
    '<ref-list id="R"><title>References</title>'
    '<ref id="B1"><mixed-citation>Smith J. <italic>Cell</italic> 2001;1:2.</mixed-citation>'
    "</ref>"
    '<ref id="B2"><element-citation><article-title>On figures</article-title>'
    "</element-citation></ref></ref-list>"
)
BODY = (
    '<sec><p>Cells divide (<xref ref-type="fig" rid="F1">Fig. 1</xref>; '
    '<xref ref-type="bibr" rid="B1">1</xref>).</p>' + fig("F1") + "</sec>"
)


def same_as_fully_parsed(xml: bytes) -> dict:
    ours = article_to_json(parse_article(xml))
    assert ours == article_to_json(parse_article(xml, read_references=True))
    return ours


def test_the_reference_list_at_the_end_of_back_is_emptied_and_marked():
    xml = nxml(BODY, back="<ack><p>Thanks.</p></ack>" + REFS)
    cut, count = cut_reference_lists(xml)
    assert count == 1
    assert b"<ref " not in cut and b"Smith" not in cut
    back = etree.fromstring(cut).find("back")
    assert [el.tag for el in back] == ["ack", "ref-list"]
    assert back[1].get("id") == "R" and back[1].get(CUT_ATTRIBUTE) == "1" and len(back[1]) == 0
    article = same_as_fully_parsed(xml)
    assert article["figures"][0]["mentions"] == ["Cells divide (Fig. 1; 1)."]


def test_several_reference_lists_are_all_cut():
    xml = nxml(
        BODY, back=REFS + REFS.replace('"R"', '"R2"') + "<fn-group><fn><p>x</p></fn></fn-group>"
    )
    cut, count = cut_reference_lists(xml)
    assert count == 2 and b"Smith" not in cut
    root = xmltree.parse_xml(xml, 1 << 20, skip_references=True)
    assert [el.get(CUT_ATTRIBUTE) for el in root.find("back")] == ["1", "1", None]
    same_as_fully_parsed(xml)


def test_oai_pmh_records_are_cut_too():
    xml = oai_pmh(BODY, back=REFS)
    assert cut_reference_lists(xml)[1] == 1
    assert len(same_as_fully_parsed(xml)["figures"]) == 1


@pytest.mark.parametrize(
    "xml",
    [
        nxml(BODY),  # no reference list
        nxml(BODY, back="<ref-list/>"),  # nothing in it
        nxml(BODY, back=REFS.replace("ref-list", "ref-listing")),  # another name
    ],
)
def test_nothing_is_cut_where_there_is_no_reference_list(xml):
    assert cut_reference_lists(xml) == (xml, 0)


def test_a_figure_in_a_reference_list_the_scan_reads_is_still_found(monkeypatch):
    # The last </ref-list> is in a sub-article's <back>, which the figure scan walks:
    # the cut list is not a child of the main article's <back>, so everything is parsed.
    sub_article = (
        '<sub-article id="S1" article-type="reply"><front-stub/><body><p>Reply.</p></body>'
        '<back><ref-list><p>See the extra plot.</p><fig id="S1F1"><caption><p>An extra '
        'plot.</p></caption><graphic xlink:href="s1f1"/></fig><ref id="S1B1">'
        "<mixed-citation>x</mixed-citation></ref></ref-list></back></sub-article>"
    )
    xml = nxml(BODY, back=REFS, after=sub_article)
    assert cut_reference_lists(xml)[1] == 1
    parses = []
    real_parse = xmltree._parse
    monkeypatch.setattr(
        xmltree, "_parse", lambda data, **kw: parses.append(data) or real_parse(data, **kw)
    )
    article = same_as_fully_parsed(xml)
    assert [f["id"] for f in article["figures"]] == ["F1", "S1F1"]
    assert parses[0] != xml and parses[1] == xml  # tried cut, then read whole


def test_a_reference_list_in_the_body_is_read():
    # The scan reads a list in the body (JATS allows figures in one): no cut there, and
    # where one is made that the scan would read, the check on the tree sends the
    # document to be parsed as given.
    in_body = REFS.replace("<title>References</title>", fig("F2"))
    xml = nxml(BODY + in_body)
    assert cut_reference_lists(xml) == (xml, 0)
    assert [f["id"] for f in same_as_fully_parsed(xml)["figures"]] == ["F1", "F2"]
    # In an appendix the byte search sees a list in <back>, but the scan reads appendices.
    in_app = nxml(BODY, back=f"<app-group><app><title>A</title>{in_body}</app></app-group>")
    assert cut_reference_lists(in_app)[1] == 1
    root = xmltree.parse_xml(in_app, 1 << 20, skip_references=True)
    assert root.find("back/app-group/app/ref-list").get(CUT_ATTRIBUTE) is None
    assert [f["id"] for f in same_as_fully_parsed(in_app)["figures"]] == ["F1", "F2"]


def test_nested_reference_lists_fall_back_to_a_full_parse():
    nested = REFS.replace("</ref-list>", REFS.replace('"R"', '"R-inner"') + "</ref-list>")
    xml = nxml(BODY, back=nested)
    cut, count = cut_reference_lists(xml)
    with pytest.raises(etree.XMLSyntaxError):  # the byte search pairs the wrong tags
        etree.fromstring(cut)
    root = xmltree.parse_xml(xml, 1 << 20, skip_references=True)
    assert root.find("back/ref-list/ref-list") is not None  # read whole, nothing lost
    same_as_fully_parsed(xml)


@pytest.mark.parametrize("hiding", ["<!-- </ref-list> -->", "<?note </ref-list> ?>"])
def test_a_closing_tag_in_a_comment_or_pi_does_not_cost_a_figure(hiding):
    # The search takes the last '</ref-list>' for the list's end, so the cut would take
    # the appendix with it; what is left of the comment gives it away on the tree.
    appendix = '<app-group><app id="A">' + fig("A1") + "</app></app-group>"
    xml = nxml(BODY, back=REFS + appendix + hiding)
    cut, count = cut_reference_lists(xml)
    assert count == 1 and b"A1" not in cut
    assert [f["id"] for f in same_as_fully_parsed(xml)["figures"]] == ["F1", "A1"]


def test_an_error_outside_the_reference_list_is_the_documents_own():
    xml = nxml(BODY.replace("</sec>", "</sek>"), back=REFS)
    with pytest.raises(ParseError, match="not well-formed XML: .*sek"):
        parse_article(xml)


def test_markup_broken_only_inside_the_reference_list_is_not_read():
    # Documented trade-off (docs/jats.md): what is not parsed is not checked.
    xml = nxml(BODY, back=REFS.replace("</italic>", ""))
    assert len(parse_article(xml).figures) == 1
    with pytest.raises(ParseError, match="not well-formed"):
        parse_article(xml, read_references=True)


def test_the_size_cap_counts_the_bytes_given_not_the_bytes_parsed():
    xml = nxml(BODY, back=REFS)
    with pytest.raises(UnsafeInput, match="over the"):
        parse_article(xml, max_bytes=len(xml) - 1)
    assert len(cut_reference_lists(xml)[0]) < len(xml) - 1


def test_entity_declarations_are_refused_whether_or_not_anything_is_cut():
    xml = nxml(BODY, back=REFS).replace(
        b'"JATS-archivearticle1.dtd">', b'"JATS-archivearticle1.dtd" [<!ENTITY x "y">]>'
    )
    with pytest.raises(UnsafeInput, match="entity"):
        parse_article(xml)


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_article_reads_the_same_without_its_reference_list(name):
    xml, article = parsed(name)
    full = parse_article(xml, read_references=True)
    assert article_to_json(article) == article_to_json(full)


def test_most_fixture_articles_have_their_reference_lists_cut():
    names = fixture_names()
    cut = sum(cut_reference_lists(parsed(name)[0])[1] > 0 for name in names)
    assert cut >= 0.8 * len(names)
