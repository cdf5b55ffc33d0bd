"""File names the way publishers choose them, one style per journal (vocab.Journal.style).

Real PMC file names are the publisher's: 'NPR2-43-85-g001.jpg', 'pone.0046493.g001.jpg'
(dots inside the name, so an extensionless legacy href still contains dots),
'41420_2024_2111_Fig1_HTML.jpg', 'gr1.jpg' (the same short name in every Elsevier
article). Figures and tables are numbered separately, in document order.
"""

from __future__ import annotations

from typing import Any

from pmc_pipeline.mirror.plan import ArticleHeader

# Style -> the stem of an article's own files, a str.format template over the header's
# fields, the journal's code, and art: the publisher's article number (art4: its last 4
# digits).
ARTICLE_STEMS = {
    "wiley": "{code}-{volume}-{first_page}",
    "frontiers": "{code}-{volume}-{art}",
    "mdpi": "{code}-{volume}-{art}",
    "springer": "{code}_{year}_{art}",
    "plos": "{code}.{art:07d}",
    "bmc": "{code}{art4}",
    "preprint": "nihpp-{year}.{month:02d}.{day:02d}.{art}v{versions}",
    "elsevier": "main",
}
# Style -> (the stem of a figure's or an image table's files, a template over the article
# stem, the kind's letters and the number; the letters of a table; those of a figure).
FIGURE_STEMS = {
    "wiley": ("{stem}-{letters}{number:03d}", "t", "g"),
    "frontiers": ("{stem}-{letters}{number:03d}", "t", "g"),
    "mdpi": ("{stem}-{letters}{number:03d}", "t", "g"),
    "springer": ("{stem}_{letters}{number}_HTML", "Tab", "Fig"),
    "plos": ("{stem}.{letters}{number:03d}", "t", "g"),
    "bmc": ("{stem}-{letters}{number}", "T", ""),
    "preprint": ("{stem}-{letters}{number:04d}", "t", "f"),
    "elsevier": ("{letters}{number}", "tbl", "gr"),
}


def article_stem(header: ArticleHeader) -> str:
    """The stem of the article's own files (legacy '<stem>.nxml', '<stem>.pdf')."""
    art = header.article_number
    template = _template(ARTICLE_STEMS, header.journal.style)
    return template.format(**vars(header), code=header.journal.code, art=art, art4=art % 10000)


def figure_stem(header: ArticleHeader, kind: str, number: int) -> str:
    """The stem of a figure's (kind 'figure') or image table's (kind 'table') files."""
    template, table, figure = _template(FIGURE_STEMS, header.journal.style)
    letters = table if kind == "table" else figure
    return template.format(stem=article_stem(header), letters=letters, number=number)


def _template(templates: dict[str, Any], style: str) -> Any:
    try:
        return templates[style]
    except KeyError:
        raise ValueError(f"unknown naming style {style!r}") from None


def supplement_name(header: ArticleHeader, number: int, extension: str) -> str:
    return f"{article_stem(header)}-s{number:03d}.{extension}"
