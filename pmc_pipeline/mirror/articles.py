"""Synthetic JATS articles: markup that varies the way real PMC XML does.

`article_xml(...)` writes one article version in the flavour of a layout:
- cloud: UTF-8 with an XML declaration and no DOCTYPE, `pub-id-type="pmcid"`, hrefs with
  their extension and `<alternatives>` around the full image (content-type "image") and
  its .gif thumbnail (content-type "thumb");
- legacy: the NLM DOCTYPE, ASCII with numeric character references (as NCBI's nxml),
  `pub-id-type="pmc"`, hrefs without extension (the package holds `<href>.jpg`/`.gif`).

Figures sit where real ones do: in body sections (optionally in one `<fig-group>` or a
`<boxed-text>`), in `<app>` in the back matter, in `<floats-group>` after it, or in a
`<sub-article>`; tables that exist only as images are `<table-wrap>` with a graphic.
Body paragraphs cite figures with `<xref ref-type="fig">`, sometimes two at once
(`rid="f1 f2"`). The markup is built as text and parsed once by lxml, which proves it
well-formed and gives the parsed tree to the truth extraction.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from lxml import etree

from pmc_pipeline.mirror.text import PANEL_LETTERS, article_title, paragraph
from pmc_pipeline.mirror.vocab import CC_PROSE, CC_URL_PART, Journal
from pmc_pipeline.mirror.xmltext import esc, tag, xref

LEGACY_DOCTYPE = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange '
    'DTD with MathML3 v1.3 20210610//EN" "JATS-archivearticle1-3-mathml3.dtd">'
)
XLINK = "http://www.w3.org/1999/xlink"
MML = "http://www.w3.org/1998/Math/MathML"
ALI = "http://www.niso.org/schemas/ali/1.0/"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

SURNAMES = (
    "Smith",
    "M\u00fcller",
    "Garc\u00eda",
    "Nakamura",
    "Okafor",
    "\u00d8degaard",
    "Chen",
    "Kowalski",
    "Dubois",
    "Silva",
    "Haddad",
    "Novak",
)
GIVEN_NAMES = (
    "Anna",
    "Jos\u00e9",
    "Wei",
    "Fatima",
    "Lars",
    "Chiara",
    "Kwame",
    "Yuki",
    "Maria",
    "Tom\u00e1\u0161",
    "Priya",
    "Jonas",
)
SUBJECT_HEADINGS = {
    "research-article": "Research Article",
    "review-article": "Review",
    "case-report": "Case Report",
    "brief-report": "Brief Report",
    "editorial": "Editorial",
    "letter": "Letter",
    "correction": "Correction",
    "other": "Article",
}
NO_CC_STATEMENT = (
    "This article is made available via the PMC Open Access Subset for unrestricted research "
    "re-use and secondary analysis in any form or by any means with acknowledgement of the "
    "original source."
)


@dataclass
class FigureMarkup:
    """One figure or table as the article XML shows it."""

    fig_id: str
    kind: str  # 'figure' or 'table'
    placement: str
    number: str  # shown in labels and mentions: '3' (1-based within its kind), 'A1', 'R1'
    label: str | None
    caption: str | None  # markup of the <caption> content, None for no <caption>
    graphics: list[tuple[str, str]]  # (href, role) in XML order; role 'image' or 'thumb'
    mentions: int
    group_id: str | None = None
    floating: bool = False  # in <floats-group> (alone, or in a fig-group that floats)


@dataclass
class Supplement:
    sup_id: str
    href: str
    mimetype: str
    subtype: str
    label: str


@dataclass
class ArticleText:
    """What an article says apart from figures, drawn once per article."""

    title: str  # markup
    abstract: list[str]  # paragraph markup
    keywords: list[str]
    authors: list[tuple[str, str]]
    intro: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    discussion: list[str] = field(default_factory=list)


def draw_text(rng: random.Random) -> ArticleText:
    cite = lambda: xref("bibr", f"r{rng.randint(1, 8)}", str(rng.randint(1, 8)))  # noqa: E731
    return ArticleText(
        title=article_title(rng),
        abstract=[paragraph(rng, 3) for _ in range(rng.randint(1, 2))],
        keywords=rng.sample(
            (
                "metabolism",
                "imaging",
                "signalling",
                "cohort study",
                "biomarker",
                "mouse model",
                "proteomics",
            ),
            3,
        ),
        authors=[(rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)) for _ in range(rng.randint(1, 6))],
        intro=[paragraph(rng, 3, cite()) for _ in range(2)],
        methods=[paragraph(rng, 2) for _ in range(rng.randint(1, 2))],
        discussion=[paragraph(rng, 3, cite())],
    )


# --- licences -----------------------------------------------------------------------------


def license_url(code: str) -> str | None:
    if code == "CC0":
        return "https://creativecommons.org/publicdomain/zero/1.0/"
    part = CC_URL_PART.get(code)
    return f"https://creativecommons.org/licenses/{part}/4.0/" if part else None


def license_markup(code: str, style: str) -> str:
    """<license> stating `code` as a URL attribute ('href'), an ali:license_ref ('ali') or in
    prose only ('prose'); 'NO-CC CODE' is always prose naming no CC licence."""
    url = license_url(code)
    if url is None:
        return tag("license", tag("license-p", esc(NO_CC_STATEMENT)))
    prose = tag(
        "license-p",
        esc(f"This is an open access article distributed under the terms of the {CC_PROSE[code]}."),
    )
    if style == "href":
        return tag("license", prose, {"license-type": "open-access", "xlink:href": url})
    if style == "ali":
        ref = tag("ali:license_ref", esc(url), {"xmlns:ali": ALI, "specific-use": "textmining"})
        return tag("license", ref + prose)
    return tag("license", prose)


# --- figures ------------------------------------------------------------------------------


def _graphics(figure: FigureMarkup) -> str:
    if len(figure.graphics) == 1:
        return tag("graphic", "", {"xlink:href": figure.graphics[0][0]})
    inner = "".join(
        tag("graphic", "", {"content-type": role, "xlink:href": href})
        for href, role in figure.graphics
    )
    return tag("alternatives", inner)


def figure_element(figure: FigureMarkup) -> str:
    inner = ""
    if figure.label is not None:
        inner += tag("label", esc(figure.label))
    if figure.caption is not None:
        inner += tag("caption", figure.caption)
    inner += _graphics(figure)
    name = "fig" if figure.kind == "figure" else "table-wrap"
    return tag(name, inner, {"id": figure.fig_id, "position": "float"})


def mention_paragraphs(rng: random.Random, figures: list[FigureMarkup]) -> list[tuple[str, str]]:
    """Body paragraphs citing figures: (id of the first figure cited, paragraph markup).

    Each figure is cited in `mentions` paragraphs, in one sentence each, its later
    citations naming a panel ('Figure 2B'), so no two citing sentences are the same. Now
    and then one citation covers a figure and the next of its kind at once, with a two-id
    rid, as PMC articles do."""
    left = [f.mentions for f in figures]
    cited = [0] * len(figures)

    def name(i: int) -> str:
        panel = PANEL_LETTERS[cited[i]] if cited[i] else ""
        cited[i] += 1
        return f"{figures[i].number}{panel}"

    out = []
    for i, figure in enumerate(figures):
        ref_type = "fig" if figure.kind == "figure" else "table"
        noun = "Figure" if figure.kind == "figure" else "Table"
        while left[i] > 0:
            left[i] -= 1
            nxt = figures[i + 1] if i + 1 < len(figures) else None
            if (
                nxt is not None
                and nxt.kind == figure.kind
                and left[i + 1] > 0
                and rng.random() < 0.25
            ):
                left[i + 1] -= 1
                text = f"{noun}s {name(i)} and {name(i + 1)}"
                ref = xref(ref_type, f"{figure.fig_id} {nxt.fig_id}", text)
            else:
                ref = xref(ref_type, figure.fig_id, f"{noun} {name(i)}")
            out.append((figure.fig_id, tag("p", paragraph(rng, 2, ref))))
    return out


def _body_figure_blocks(figures: list[FigureMarkup]) -> dict[str, str]:
    """Markup of the body-placed figures, keyed by the id of the figure each block is
    anchored to (a <fig-group> or <boxed-text> is anchored to its first figure)."""
    blocks: dict[str, str] = {}
    group: list[FigureMarkup] = []

    def flush() -> None:
        if group:
            members = "".join(figure_element(f) for f in group)
            blocks[group[0].fig_id] = tag("fig-group", members, {"id": group[0].group_id})
            group.clear()

    for figure in figures:
        if figure.placement == "fig-group":
            if group and group[0].group_id != figure.group_id:
                flush()
            group.append(figure)
            continue
        flush()
        if figure.placement == "boxed-text":
            box = (
                tag("caption", tag("title", f"Box {figure.number}"))
                + tag("p", esc("A summary of the key observations."))
                + figure_element(figure)
            )
            blocks[figure.fig_id] = tag("boxed-text", box, {"id": f"box{figure.number}"})
        else:
            blocks[figure.fig_id] = figure_element(figure)
    flush()
    return blocks


def _sec(sec_id: str, title: str, content: str) -> str:
    return tag("sec", tag("title", esc(title)) + content, {"id": sec_id})


def _results(rng: random.Random, figures: list[FigureMarkup], in_body: set[str]) -> str:
    """The Results section: for each figure in turn, the paragraphs that first cite it,
    then (for a body figure) the figure itself. Figures thus keep their document order,
    cited or not, and each sits after its first citation when it has one."""
    blocks = _body_figure_blocks([f for f in figures if f.fig_id in in_body])
    citing: dict[str, list[str]] = {}
    for first_cited, markup in mention_paragraphs(rng, figures):
        citing.setdefault(first_cited, []).append(markup)
    parts = [tag("p", paragraph(rng, 2))]
    for figure in figures:
        parts.extend(citing.get(figure.fig_id, ()))
        if figure.fig_id in blocks:  # the first figure of a group anchors the group
            parts.append(blocks.pop(figure.fig_id))
    return _sec("s3", "Results", "".join(parts))


@dataclass
class ArticleMeta:
    """Identifiers and bibliographic facts the front matter states."""

    pmcid: str
    version: int
    versions: int
    pmid: int | None
    doi: str
    mid: str | None
    journal: Journal
    article_type: str
    year: int
    month: int
    day: int
    volume: int
    issue: int
    first_page: int
    license_code: str
    license_style: str
    open_access: bool
    pdf_name: str | None


def _front(meta: ArticleMeta, text: ArticleText, layout: str) -> str:
    j = meta.journal
    journal_meta = (
        tag("journal-id", esc(j.abbrev), {"journal-id-type": "nlm-ta"})
        + tag("journal-title-group", tag("journal-title", esc(j.title)))
        + tag("issn", esc(j.issn), {"pub-type": "epub"})
        + tag("publisher", tag("publisher-name", esc(j.publisher)))
    )
    ids = ""
    if meta.pmid is not None:
        ids += tag("article-id", str(meta.pmid), {"pub-id-type": "pmid"})
    if layout == "cloud":
        ids += tag("article-id", meta.pmcid, {"pub-id-type": "pmcid"})
    else:
        ids += tag("article-id", meta.pmcid[3:], {"pub-id-type": "pmc"})
    ids += tag("article-id", esc(meta.doi), {"pub-id-type": "doi"})
    if meta.mid:
        ids += tag("article-id", meta.mid, {"pub-id-type": "manuscript"})
    if meta.versions > 1:
        ids += tag("article-version", str(meta.version), {"article-version-type": "number"})
    contribs = "".join(
        tag(
            "contrib",
            tag("name", tag("surname", esc(s)) + tag("given-names", esc(g))),
            {"contrib-type": "author"},
        )
        for s, g in text.authors
    )
    pub_date = (
        tag("day", str(meta.day)) + tag("month", str(meta.month)) + tag("year", str(meta.year))
    )
    permissions = (
        tag("copyright-statement", esc(f"\u00a9 {meta.year} The Author(s)."))
        + tag("copyright-year", str(meta.year))
        + license_markup(meta.license_code, meta.license_style)
    )
    article_meta = (
        ids
        + tag(
            "article-categories",
            tag(
                "subj-group",
                tag("subject", esc(SUBJECT_HEADINGS[meta.article_type])),
                {"subj-group-type": "heading"},
            ),
        )
        + tag("title-group", tag("article-title", text.title))
        + tag("contrib-group", contribs)
        + tag("pub-date", pub_date, {"pub-type": "epub"})
        + tag("volume", str(meta.volume))
        + tag("issue", str(meta.issue))
        + tag("fpage", str(meta.first_page))
        + tag("lpage", str(meta.first_page + 9))
        + tag("permissions", permissions)
    )
    if meta.pdf_name:
        article_meta += tag("self-uri", "", {"content-type": "pdf", "xlink:href": meta.pdf_name})
    article_meta += tag("abstract", "".join(tag("p", p) for p in text.abstract))
    article_meta += tag("kwd-group", "".join(tag("kwd", esc(k)) for k in text.keywords))
    return tag("front", tag("journal-meta", journal_meta) + tag("article-meta", article_meta))


def _references(rng: random.Random) -> str:
    refs = []
    for n in range(1, 9):
        author = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN_NAMES)[0]}"
        citation = f"{author}, et al. Findings on {rng.choice(('metabolism', 'imaging', 'signalling'))}. J Synth Res. {rng.randint(1990, 2025)};{rng.randint(1, 80)}:{rng.randint(1, 900)}\u2013{rng.randint(901, 999)}."
        refs.append(
            tag("ref", tag("label", str(n)) + tag("mixed-citation", esc(citation)), {"id": f"r{n}"})
        )
    return tag("ref-list", tag("title", "References") + "".join(refs))


def _supplements(supplements: list[Supplement]) -> str:
    items = "".join(
        tag(
            "supplementary-material",
            tag("label", esc(s.label))
            + tag(
                "media",
                "",
                {"xlink:href": s.href, "mimetype": s.mimetype, "mime-subtype": s.subtype},
            ),
            {"id": s.sup_id, "content-type": "local-data"},
        )
        for s in supplements
    )
    return tag(
        "sec",
        tag("title", "Supplementary Material") + items,
        {"id": "s5", "sec-type": "supplementary-material"},
    )


def article_markup(
    rng: random.Random,
    meta: ArticleMeta,
    text: ArticleText,
    figures: list[FigureMarkup],
    supplements: list[Supplement],
    layout: str,
) -> str:
    """The article as markup text (see article_xml for bytes)."""
    in_body = {
        f.fig_id
        for f in figures
        if f.placement in ("body", "fig-group", "boxed-text") and not f.floating
    }
    body = (
        _sec("s1", "Introduction", "".join(tag("p", p) for p in text.intro))
        + _sec("s2", "Methods", "".join(tag("p", p) for p in text.methods))
        + _results(rng, figures, in_body)
        + _sec("s4", "Discussion", "".join(tag("p", p) for p in text.discussion))
    )
    if supplements:
        body += _supplements(supplements)
    back = tag("ack", tag("p", esc("We thank the members of the core facilities.")))
    app_figures = [f for f in figures if f.placement == "app"]
    if app_figures:
        apps = "".join(
            tag("app", tag("title", f"Appendix {n}") + figure_element(f), {"id": f"app{n}"})
            for n, f in enumerate(app_figures, start=1)
        )
        back += tag("app-group", apps)
    back += _references(rng)
    article = _front(meta, text, layout) + tag("body", body) + tag("back", back)
    floating = [f for f in figures if f.floating]
    if floating:
        article += tag("floats-group", "".join(_body_figure_blocks(floating).values()))
    sub_figures = [f for f in figures if f.placement == "sub-article"]
    if sub_figures:
        stub = tag("front-stub", tag("title-group", tag("article-title", "Author response")))
        sub_body = tag(
            "body", tag("p", paragraph(rng, 2)) + "".join(figure_element(f) for f in sub_figures)
        )
        article += tag("sub-article", stub + sub_body, {"article-type": "reply", "id": "sa1"})
    pi = "<?properties open_access?>" if layout == "legacy" and meta.open_access else ""
    root_attrs = {
        "xmlns:xlink": XLINK,
        "xmlns:mml": MML,
        "dtd-version": "1.3" if layout == "legacy" else None,
        "xml:lang": "en",
        "article-type": meta.article_type,
    }
    return tag("article", pi + article, root_attrs)


def serialize(markup: str, layout: str) -> bytes:
    """File bytes of article markup in the layout's flavour."""
    if layout == "legacy":
        ascii_text = _NON_ASCII.sub(lambda m: f"&#x{ord(m.group()):05x};", markup)
        return (LEGACY_DOCTYPE + "\n" + ascii_text).encode("ascii")
    return b'<?xml version="1.0" encoding="UTF-8"?>' + markup.encode("utf-8")


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse(xml: bytes) -> etree._Element:
    """Parse XML we wrote (raises lxml's XMLSyntaxError if it is not well-formed)."""
    return etree.fromstring(xml, _PARSER)
