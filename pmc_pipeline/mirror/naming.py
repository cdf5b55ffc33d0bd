"""File names the way publishers choose them, one style per journal (vocab.Journal.style).

Real PMC file names are the publisher's: 'NPR2-43-85-g001.jpg', 'pone.0046493.g001.jpg'
(dots inside the name, so an extensionless legacy href still contains dots),
'41420_2024_2111_Fig1_HTML.jpg', 'gr1.jpg' (the same short name in every Elsevier
article). Figures and tables are numbered separately, in document order.
"""

from __future__ import annotations

from pmc_pipeline.mirror.plan import ArticleHeader


def article_stem(header: ArticleHeader) -> str:
    """The stem of the article's own files (legacy '<stem>.nxml', '<stem>.pdf')."""
    j, art = header.journal, header.article_number
    style = j.style
    if style == "wiley":
        return f"{j.code}-{header.volume}-{header.first_page}"
    if style in ("frontiers", "mdpi"):
        return f"{j.code}-{header.volume}-{art}"
    if style == "springer":
        return f"{j.code}_{header.year}_{art}"
    if style == "plos":
        return f"{j.code}.{art:07d}"
    if style == "bmc":
        return f"{j.code}{art % 10000}"
    if style == "preprint":
        return f"nihpp-{header.year}.{header.month:02d}.{header.day:02d}.{art}v{header.versions}"
    if style == "elsevier":
        return "main"
    raise ValueError(f"unknown naming style {style!r}")


def figure_stem(header: ArticleHeader, kind: str, number: int) -> str:
    """The stem of a figure's (kind 'figure') or image table's (kind 'table') files."""
    stem, style = article_stem(header), header.journal.style
    table = kind == "table"
    if style in ("wiley", "frontiers", "mdpi"):
        return f"{stem}-{'t' if table else 'g'}{number:03d}"
    if style == "springer":
        return f"{stem}_{'Tab' if table else 'Fig'}{number}_HTML"
    if style == "plos":
        return f"{stem}.{'t' if table else 'g'}{number:03d}"
    if style == "bmc":
        return f"{stem}-{'T' if table else ''}{number}"
    if style == "preprint":
        return f"{stem}-{'t' if table else 'f'}{number:04d}"
    if style == "elsevier":
        return f"{'tbl' if table else 'gr'}{number}"
    raise ValueError(f"unknown naming style {style!r}")


def supplement_name(header: ArticleHeader, number: int, extension: str) -> str:
    return f"{article_stem(header)}-s{number:03d}.{extension}"
