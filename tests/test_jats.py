"""parse_article on small hand-written JATS: where figures sit, graphics, captions,
mentions, tables-as-images, namespaces and robustness. Real articles: test_jats_fixtures."""

from __future__ import annotations

import pytest
from helpers.jats_docs import fig, nxml, oai_pmh

from pmc_pipeline.jats import article as jats_article
from pmc_pipeline.jats import article_to_json, parse_article
from pmc_pipeline.model import FigureKind, GraphicRole, ParseError


def figures_by_id(xml: bytes) -> dict:
    return {f.id: f for f in parse_article(xml).figures}


# --- where figures sit --------------------------------------------------------------------


def test_every_placement_kind_is_found_in_document_order():
    xml = nxml(
        "<sec><p>Text.</p>"
        + fig("body1")
        + '<fig-group id="G1">'
        + fig("grouped1")
        + fig("grouped2")
        + "</fig-group>"
        + '<boxed-text id="B1"><sec><p>Box.</p>'
        + fig("boxed1")
        + "</sec></boxed-text></sec>",
        back='<app-group><app id="A1"><title>Appendix</title>'
        + fig("app1")
        + '<fig-group id="G2">'
        + fig("app-grouped")
        + "</fig-group></app></app-group>",
        floats=fig("float1"),
        after='<sub-article id="S1" article-type="reply"><front-stub/><body><p>Reply.</p>'
        + fig("reply1")
        + "</body></sub-article>",
    )
    figures = parse_article(xml).figures
    assert [f.id for f in figures] == [
        "body1",
        "grouped1",
        "grouped2",
        "boxed1",
        "app1",
        "app-grouped",
        "float1",
        "reply1",
    ]
    assert [f.index for f in figures] == list(range(1, 9))
    placements = {f.id: (f.placement, f.parent_group) for f in figures}
    assert placements == {
        "body1": ("body", None),
        "grouped1": ("fig-group", "G1"),
        "grouped2": ("fig-group", "G1"),
        "boxed1": ("boxed-text", None),
        "app1": ("app", None),
        "app-grouped": ("app", "G2"),  # the appendix says more; the group is still named
        "float1": ("floats-group", None),
        "reply1": ("sub-article", None),
    }


def test_a_fig_group_without_id_is_named_by_its_first_figure():
    # eLife: <fig-group> has no id; figure supplements hang from the main figure.
    xml = nxml("<sec><fig-group>" + fig("fig1") + fig("fig1s1") + "</fig-group></sec>")
    assert [f.parent_group for f in parse_article(xml).figures] == ["fig1", "fig1"]


def test_figures_without_caption_label_or_graphic_are_still_returned():
    xml = nxml(fig("F1", caption=None, graphics="") + fig("F2", "<p>Second.</p>", label="Fig 2"))
    first, second = parse_article(xml).figures
    assert (first.caption, first.label, first.graphics, first.image_href) == ("", None, [], None)
    # a missing caption is empty, never the previous figure's caption
    assert (second.caption, second.label) == ("Second.", "Fig 2")


# --- graphics -----------------------------------------------------------------------------


def test_alternatives_give_the_full_image_and_the_thumbnail_their_roles():
    graphics = (
        "<alternatives>"
        '<graphic content-type="thumb" xlink:href="x-g001.gif"/>'
        '<graphic content-type="image" xlink:href="x-g001.jpg"/>'
        "</alternatives>"
    )
    (figure,) = parse_article(nxml(fig("F1", graphics=graphics))).figures
    assert [(g.href, g.role) for g in figure.graphics] == [
        ("x-g001.gif", GraphicRole.THUMB),
        ("x-g001.jpg", GraphicRole.IMAGE),
    ]
    assert figure.image_href == "x-g001.jpg"  # the full image, though the thumb comes first


def test_a_legacy_graphic_without_extension_is_the_image():
    (figure,) = parse_article(nxml(fig("F1", href="pone.0000217.g001"))).figures
    assert [(g.href, g.role) for g in figure.graphics] == [("pone.0000217.g001", "image")]


def test_inline_graphics_in_a_caption_are_not_figure_graphics():
    caption = '<p>Marker <inline-graphic xlink:href="sym.gif"/> shows wild type.</p>'
    (figure,) = parse_article(nxml(fig("F1", caption, href="f1.jpg"))).figures
    assert [g.href for g in figure.graphics] == ["f1.jpg"]
    assert figure.caption == "Marker shows wild type."


# --- captions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption_xml", "expected"),
    [
        # blocks written with no whitespace between them must not glue
        (
            "<title>Growth curves.</title><p>Cells were counted.</p>",
            "Growth curves. Cells were counted.",
        ),
        # inline markup keeps the spacing the author wrote (pubmed_parser: 'ofE. colicells')
        ("<p>Image of <italic>E. coli</italic> cells</p>", "Image of E. coli cells"),
        ("<p>H<sub>2</sub>O and CO<sub>2</sub>, 10<sup>−3</sup> M</p>", "H2O and CO2, 10−3 M"),
        ("<p>First.</p><p>Second.</p>", "First. Second."),
        (
            "<p>Panels:<list><list-item><p>(a) wild type;</p></list-item>"
            "<list-item><p>(b) mutant.</p></list-item></list></p>",
            "Panels: (a) wild type; (b) mutant.",
        ),
        ("<p>Line one<break/>line two</p>", "Line one line two"),
        ("<p>\n   spread\tover\u00a0\u2009lines  </p>", "spread over lines"),
        (
            "<p>Rate <inline-formula><mml:math><mml:mi>k</mml:mi><mml:mo>=</mml:mo>"
            "<mml:mn>2</mml:mn></mml:math></inline-formula> per s.</p>",
            "Rate k=2 per s.",
        ),
    ],
)
def test_full_caption_text(caption_xml, expected):
    (figure,) = parse_article(nxml(fig("F1", caption_xml))).figures
    assert figure.caption == expected


def test_caption_title_is_kept_separately_and_in_the_caption():
    caption = "<title>Growth <italic>in vitro</italic>.</title><p>Details.</p>"
    (figure,) = parse_article(nxml(fig("F1", caption))).figures
    assert figure.title == "Growth in vitro."
    assert figure.caption == "Growth in vitro. Details."


def test_tex_is_dropped_when_mathml_says_the_same_and_kept_when_alone():
    both = (
        "<p>Buffer <inline-formula><alternatives>"
        "<tex-math>\\documentclass[12pt]{minimal}\\begin{document}$K^{+}$\\end{document}</tex-math>"
        "<mml:math><mml:msup><mml:mi>K</mml:mi><mml:mo>+</mml:mo></mml:msup></mml:math>"
        "</alternatives></inline-formula> only.</p>"
    )
    alone = (
        "<p>Buffer <inline-formula><tex-math>\\documentclass[12pt]{minimal}"
        "\\begin{document}$K^{+}$\\end{document}</tex-math></inline-formula> only.</p>"
    )
    first, second = parse_article(nxml(fig("F1", both) + fig("F2", alone))).figures
    assert first.caption == "Buffer K+ only."
    assert second.caption == "Buffer $K^{+}$ only."  # the formula, not the LaTeX preamble


def test_mathml_annotations_are_not_caption_text():
    caption = (
        "<p>Value <mml:math><mml:semantics><mml:mi>x</mml:mi>"
        '<mml:annotation encoding="TeX">x</mml:annotation></mml:semantics></mml:math> here.</p>'
    )
    (figure,) = parse_article(nxml(fig("F1", caption))).figures
    assert figure.caption == "Value x here."


def test_label_text_is_collapsed():
    (figure,) = parse_article(nxml(fig("F1", label="Figure\u00a0<bold>1</bold>"))).figures
    assert figure.label == "Figure 1"


# --- mentions -----------------------------------------------------------------------------


def test_mentions_are_the_citing_sentences_in_document_order():
    body = (
        "<sec><p>Cells grew fast. Growth doubled at 37 °C "
        '(<xref ref-type="fig" rid="F1">Fig. 1A</xref>). Nothing else changed.</p>'
        '<p>As Smith et al. reported, the effect persisted (<xref ref-type="fig" rid="F1">'
        "Figure 1B</xref>) for e.g. two days.</p>" + fig("F1") + "</sec>"
    )
    (figure,) = parse_article(nxml(body)).figures
    assert figure.mentions == [
        "Growth doubled at 37 °C (Fig. 1A).",
        "As Smith et al. reported, the effect persisted (Figure 1B) for e.g. two days.",
    ]


def test_an_xref_naming_several_ids_counts_for_each():
    body = (
        '<p>Both grew (<xref ref-type="fig" rid="F1 F2">Figs 1 and 2</xref>). '
        'Only one died (<xref ref-type="fig" rid="F2">Fig. 2</xref>).</p>'
    )
    by_id = figures_by_id(nxml(body + fig("F1") + fig("F2")))
    assert by_id["F1"].mentions == ["Both grew (Figs 1 and 2)."]
    assert by_id["F2"].mentions == ["Both grew (Figs 1 and 2).", "Only one died (Fig. 2)."]


def test_a_sentence_citing_a_figure_twice_is_one_mention():
    body = (
        '<p>Compare <xref ref-type="fig" rid="F1">Fig. 1A</xref> with '
        '<xref ref-type="fig" rid="F1">Fig. 1B</xref>.</p>'
    )
    (figure,) = parse_article(nxml(body + fig("F1"))).figures
    assert figure.mentions == ["Compare Fig. 1A with Fig. 1B."]


def test_a_figure_inside_its_paragraph_is_not_part_of_the_sentence():
    body = (
        '<p>The map is shown (<xref ref-type="fig" rid="F1">Fig. 1</xref>).'
        + fig("F1", "<p>Map of the site.</p>")
        + " Then we moved on.</p>"
    )
    (figure,) = parse_article(nxml(body)).figures
    assert figure.caption == "Map of the site."
    assert figure.mentions == ["The map is shown (Fig. 1)."]


def test_xrefs_in_captions_and_references_are_not_mentions():
    body = fig("F1", '<p>Like <xref ref-type="fig" rid="F2">Fig. 2</xref> but older.</p>') + fig(
        "F2"
    )
    back = (
        '<ref-list><ref id="R1"><mixed-citation>See <xref ref-type="fig" rid="F2">2</xref>.'
        "</mixed-citation></ref></ref-list>"
    )
    assert figures_by_id(nxml(body, back=back))["F2"].mentions == []


def test_mentions_inside_a_list_and_a_boxed_text_paragraph():
    body = (
        "<p>Steps:<list><list-item><p>First we stained "
        '(<xref ref-type="fig" rid="F1">Fig. 1</xref>).</p></list-item></list></p>'
        '<p>Outer text.<boxed-text><p>The box cites it (<xref ref-type="fig" rid="F1">'
        "Fig. 1</xref>).</p></boxed-text> More outer text.</p>" + fig("F1")
    )
    (figure,) = parse_article(nxml(body)).figures
    assert figure.mentions == ["First we stained (Fig. 1).", "The box cites it (Fig. 1)."]


def test_xrefs_to_unknown_ids_or_other_types_are_ignored():
    body = (
        '<p>See <xref ref-type="fig" rid="F9">Fig. 9</xref> and '
        '<xref ref-type="bibr" rid="F1">[1]</xref>.</p>' + fig("F1")
    )
    assert figures_by_id(nxml(body))["F1"].mentions == []


# --- tables that exist only as an image ---------------------------------------------------


def test_tables_as_images_are_a_separate_kind_in_the_same_index():
    table_image = (
        '<table-wrap id="T1"><label>Table 1</label><caption><p>Doses.</p></caption>'
        '<graphic xlink:href="t1.jpg"/></table-wrap>'
    )
    real_table = (
        '<table-wrap id="T2"><label>Table 2</label><caption><p>Counts.</p></caption>'
        "<alternatives><graphic xlink:href='t2.jpg'/><table><tr><td>1</td></tr></table>"
        "</alternatives></table-wrap>"
    )
    body = (
        fig("F1")
        + table_image
        + real_table
        + fig("F2")
        + '<p>Doses are listed (<xref ref-type="table" rid="T1">Table 1</xref>).</p>'
    )
    figures = parse_article(nxml(body)).figures
    assert [(f.id, f.index, f.kind) for f in figures] == [
        ("F1", 1, FigureKind.FIGURE),
        ("T1", 2, FigureKind.TABLE),
        ("F2", 3, FigureKind.FIGURE),
    ]
    table = figures[1]
    assert (table.label, table.caption, table.image_href) == ("Table 1", "Doses.", "t1.jpg")
    assert table.mentions == ["Doses are listed (Table 1)."]


# --- namespaces and robustness ------------------------------------------------------------


def test_oai_pmh_wrapped_jats_reads_like_plain_nxml():
    body = (
        '<sec><p>Shown (<xref ref-type="fig" rid="F1">Fig. 1</xref>).</p>'
        + fig("F1", "<title>T.</title><p>P.</p>", label="Figure 1")
        + "</sec>"
    )
    front = (
        '<article-meta><article-id pub-id-type="pmcid">PMC10200000</article-id>'
        "<title-group><article-title>A title</article-title></title-group></article-meta>"
    )
    assert parse_article(oai_pmh(body, front=front)) == parse_article(nxml(body, front=front))
    assert parse_article(oai_pmh(body, front=front)).figures[0].caption == "T. P."


def test_a_broken_figure_does_not_lose_the_others(monkeypatch):
    real_block_text = jats_article.block_text

    def fails_on_the_second(caption, names):
        if "second" in "".join(caption.itertext()):
            raise ValueError("simulated bug")
        return real_block_text(caption, names)

    monkeypatch.setattr(jats_article, "block_text", fails_on_the_second)
    xml = nxml(fig("F1", "<p>first</p>") + fig("F2", "<p>second</p>") + fig("F3", "<p>third</p>"))
    figures = parse_article(xml).figures
    assert [(f.id, f.index, f.caption) for f in figures] == [
        ("F1", 1, "first"),
        ("F2", 2, ""),  # kept, so that it is accounted for, with what could not be read left empty
        ("F3", 3, "third"),
    ]


def test_an_unexpected_error_becomes_a_parse_error_with_a_reason(monkeypatch):
    def broken(*_args):
        raise KeyError("boom")

    monkeypatch.setattr(jats_article, "fill_metadata", broken)
    with pytest.raises(ParseError, match="unexpected KeyError"):
        parse_article(nxml(fig("F1")))


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (b"", "empty document"),
        (b"  \n ", "empty document"),
        (b"<article><body><p>cut off", "not well-formed"),
        (b"<article><body></p></body></article>", "not well-formed"),
        (b"not xml at all", "not well-formed"),
        (b"<OAI-PMH><error code='idDoesNotExist'/></OAI-PMH>", "no JATS <article>"),
        (b"<html><body>Not found</body></html>", "no JATS <article>"),
    ],
)
def test_a_broken_article_is_a_parse_error_with_a_reason(xml, reason):
    with pytest.raises(ParseError, match=reason):
        parse_article(xml)


def test_an_article_in_another_namespace_is_not_jats():
    with pytest.raises(ParseError, match="no JATS <article>"):
        parse_article(b'<article xmlns="urn:other"><body/></article>')


def test_json_record_holds_every_figure_field():
    record = article_to_json(parse_article(nxml(fig("F1", label="Figure 1"))), "a/b.nxml")
    assert record["path"] == "a/b.nxml"
    assert record["figures"] == [
        {
            "id": "F1",
            "index": 1,
            "kind": "figure",
            "label": "Figure 1",
            "title": None,
            "caption": "A caption.",
            "placement": "body",
            "parent_group": None,
            "graphics": [{"href": "F1-image", "role": "image"}],
            "mentions": [],
        }
    ]


# --- metadata -----------------------------------------------------------------------------


def test_article_metadata_from_front():
    front = (
        "<journal-meta><journal-id journal-id-type='nlm-ta'>J Test</journal-id>"
        "<publisher><publisher-name>Test Press</publisher-name></publisher></journal-meta>"
        "<article-meta>"
        '<article-id pub-id-type="pmcid">PMC0012345</article-id>'
        '<article-id pub-id-type="pmcid-ver">PMC12345.3</article-id>'
        '<article-id pub-id-type="pmid">999</article-id>'
        '<article-id pub-id-type="doi">https://doi.org/10.1000/xyz</article-id>'
        "<article-categories>"
        '<subj-group subj-group-type="display-channel"><subject>Research Article</subject>'
        '</subj-group><subj-group subj-group-type="heading"><subject>Cell Biology</subject>'
        "</subj-group></article-categories>"
        "<title-group><article-title>Growth of <italic>E. coli</italic></article-title>"
        "</title-group>"
        '<pub-date pub-type="collection"><year>2020</year></pub-date>'
        '<pub-date pub-type="epub"><day>1</day><year>2019</year></pub-date>'
        "<permissions><license><ali:license_ref>https://creativecommons.org/licenses/by/4.0/"
        "</ali:license_ref><license-p>Open access.</license-p></license></permissions>"
        "<kwd-group><kwd>growth</kwd><kwd>cell biology</kwd></kwd-group>"
        "</article-meta>"
    )
    article = parse_article(nxml(fig("F1"), front=front, article_type="brief-report"))
    assert (article.pmcid, article.version, article.pmid) == ("PMC12345", 3, "999")
    assert article.doi == "10.1000/xyz"
    assert article.title == "Growth of E. coli"
    assert (article.journal, article.publisher) == ("J Test", "Test Press")
    assert (article.year, article.article_type) == (2019, "brief-report")  # epub first
    assert article.license.code == "CC BY"
    assert article.license.url == "https://creativecommons.org/licenses/by/4.0/"
    assert article.license.text == "https://creativecommons.org/licenses/by/4.0/ Open access."
    # author keywords, then subjects; each once; display labels left out
    assert article.keywords == ["growth", "cell biology"]


@pytest.mark.parametrize(
    ("license_xml", "code", "url"),
    [
        (
            '<license xlink:href="http://creativecommons.org/licenses/by-nc/3.0/">'
            "<license-p>Text.</license-p></license>",
            "CC BY-NC",
            "http://creativecommons.org/licenses/by-nc/3.0/",
        ),
        (  # cloud XML: only prose, with the URL as a link
            "<license><license-p>Under the terms of the <ext-link "
            'xlink:href="https://creativecommons.org/licenses/by-nc-nd/4.0/">CC licence</ext-link>'
            ".</license-p></license>",
            "CC BY-NC-ND",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        ),
        (  # prose written straight into <license>, and only a type attribute
            '<license license-type="open-access">This is an Open Access article distributed '
            "under the terms of the Creative Commons Attribution License.</license>",
            "CC BY",
            None,
        ),
        (
            '<license license-type="open-access"><license-p>Free to read.</license-p></license>',
            None,
            None,
        ),
    ],
)
def test_licence_statements(license_xml, code, url):
    front = f"<article-meta><permissions>{license_xml}</permissions></article-meta>"
    license = parse_article(nxml(fig("F1"), front=front)).license
    assert (license.code, license.url) == (code, url)
    assert license.text
