"""Article metadata from a JATS <front>: ids, title, journal, year, licence, keywords.

Everything is read from the main article's own <front> (never a sub-article's), with the
fallbacks real PMC, Europe PMC and publisher XML need. A missing or odd field is left
empty; metadata never makes an article fail. Lookups walk direct children in Python:
lxml's find() and tag-filtered iterators cost microseconds each to set up, more than the
few children they would skip.
"""

from __future__ import annotations

import re

from lxml import etree

from pmc_pipeline.licenses import normalize_license
from pmc_pipeline.model import Article, License, normalize_pmcid

from .text import text_of
from .xmltree import ALI_LICENSE_REF, XLINK_HREF, Names, child, children

# pub-id-type values naming the PMCID, best first: 'pmcid-ver' (PMC13239990.1) carries the
# version; 'accession' is OAI-PMH's and only counts when it looks like a PMCID.
_PMCID_TYPES = ("pmcid-ver", "pmcid", "pmc", "accession")
# pub-date types, best first: the version of record's date, then the issue's.
_DATE_TYPES = ("epub", "ppub", "pub", "collection", "epub-ppub", "pmc-release")
# subj-groups that carry the publisher's display label, not a subject.
_LABEL_SUBJECT_GROUPS = frozenset({"display-channel", "overline"})
_YEAR = re.compile(r"\d{4}")
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def fill_metadata(article: Article, article_el: etree._Element, names: Names) -> None:
    """Set the metadata fields of `article` from the JATS <article> element."""
    article.article_type = article_el.get("article-type")
    front = child(article_el, names("front"))
    if front is None:
        return
    journal_meta = child(front, names("journal-meta"))
    if journal_meta is not None:
        article.journal = _journal_title(journal_meta, names)
        publisher = child(journal_meta, names("publisher"))
        if publisher is not None:
            article.publisher = text_of(child(publisher, names("publisher-name")))
    meta = child(front, names("article-meta"))
    if meta is None:
        return
    parts = children(meta)
    _fill_ids(article, parts, names)
    title_group = _first(parts, names("title-group"))
    if title_group is not None:
        article.title = text_of(child(title_group, names("article-title")))
    article.year = _year(parts.get(names("pub-date"), ()), names)
    article.license = _license(_first(parts, names("permissions")), names)
    article.keywords = _keywords(parts, names)


def _first(parts: dict[str, list[etree._Element]], tag: str) -> etree._Element | None:
    found = parts.get(tag)
    return found[0] if found else None


def _journal_title(journal_meta: etree._Element, names: Names) -> str | None:
    parts = children(journal_meta)
    group = _first(parts, names("journal-title-group"))
    if group is not None:
        title = text_of(child(group, names("journal-title")))
        if title:
            return title
    title = text_of(_first(parts, names("journal-title")))  # JATS before 3.0
    if title:
        return title
    for journal_id in parts.get(names("journal-id"), ()):
        if journal_id.get("journal-id-type") in ("nlm-ta", "iso-abbrev"):
            return text_of(journal_id)
    return None


def _fill_ids(article: Article, parts: dict, names: Names) -> None:
    ids: dict[str, str] = {}
    for el in parts.get(names("article-id"), ()):
        value = text_of(el)
        if value:
            ids.setdefault(el.get("pub-id-type", ""), value)
    for id_type in _PMCID_TYPES:
        if id_type not in ids:
            continue
        try:
            article.pmcid, article.version = normalize_pmcid(ids[id_type])
            break
        except ValueError:  # 'accession' holding something else, a malformed id
            continue
    if article.pmcid and article.version is None:
        for el in parts.get(names("article-version"), ()):
            if (
                el.get("article-version-type") == "pmc-version"
                and (el.text or "").strip().isdigit()
            ):
                article.version = int(el.text)
    article.pmid = ids.get("pmid")
    if ids.get("doi"):
        article.doi = _DOI_PREFIX.sub("", ids["doi"])


def _year(pub_dates, names: Names) -> int | None:
    by_type: dict[str, int] = {}
    for pub_date in pub_dates:
        match = _YEAR.search(text_of(child(pub_date, names("year"))) or "")
        if match:
            date_type = pub_date.get("pub-type") or pub_date.get("date-type") or ""
            by_type.setdefault(date_type, int(match.group()))
    for date_type in _DATE_TYPES:
        if date_type in by_type:
            return by_type[date_type]
    return next(iter(by_type.values()), None)


def _license(permissions: etree._Element | None, names: Names) -> License:
    if permissions is None:
        return License()
    license_el = child(permissions, names("license"))
    # ali:license_ref sits in <license> (JATS 1.2+) or directly in <permissions>.
    ali_ref = text_of(child(license_el, ALI_LICENSE_REF) if license_el is not None else None)
    ali_ref = ali_ref or text_of(child(permissions, ALI_LICENSE_REF))
    if license_el is None:
        href = license_type = text = None
    else:
        href = license_el.get(XLINK_HREF)
        license_type = license_el.get("license-type")
        text = _license_text(license_el)
    url = next((u.strip() for u in (ali_ref, href) if u and "://" in u), None)
    if url is None and license_el is not None:  # cloud XML: a link inside the prose
        url = _creative_commons_link(license_el, names)
    # The most specific statement first: a licence URL, then prose, then a bare type.
    statements = (ali_ref, href, url, text, license_type)
    code = next((c for c in map(normalize_license, statements) if c), None)
    return License(code=code, url=url, text=text)


def _license_text(license_el: etree._Element) -> str | None:
    """The licence statement, its parts (ali:license_ref, each license-p) kept apart:
    'https://…/by/4.0/ This work is licensed…', not '…/4.0/This work'."""
    mixed = (license_el.text or "").strip() or any((c.tail or "").strip() for c in license_el)
    if mixed:  # prose written straight into <license>: read it whole
        return text_of(license_el)
    return " ".join(filter(None, map(text_of, license_el))) or None


def _creative_commons_link(license_el: etree._Element, names: Names) -> str | None:
    """A Creative Commons URL linked from the licence's prose, as cloud XML gives it."""
    for link in license_el.iter(names("ext-link"), names("uri")):
        href = link.get(XLINK_HREF) or ""
        if "creativecommons.org" in href:
            return href.strip()
    return None


def _keywords(parts: dict, names: Names) -> list[str]:
    """Author keywords, then the publisher's subject headings; each once."""
    kwd = names("kwd")
    found = [text_of(k) for group in parts.get(names("kwd-group"), ()) for k in group.iter(kwd)]
    categories = _first(parts, names("article-categories"))
    if categories is not None:
        subject = names("subject")
        for group in categories.iter(names("subj-group")):
            if group.get("subj-group-type") not in _LABEL_SUBJECT_GROUPS:
                found.extend(text_of(s) for s in group if s.tag == subject)
    seen: set[str] = set()
    keywords = []
    for word in found:
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            keywords.append(word)
    return keywords
