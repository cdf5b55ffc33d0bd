"""The legacy layout's file lists, read into ArticleRefs.

- `oa_file_list.csv`: header `File,Article Citation,Accession ID,Last Updated
  (YYYY-MM-DD HH:MM:SS),PMID,License`, one row per package.
- `oa_file_list.txt`: a timestamp line, then tab-separated `File, Citation, Accession ID,
  PMID:nnn, License` (no Last Updated).
- the bulk `*.filelist.csv`: `Article File,Article Citation,AccessionID,LastUpdated
  (YYYY-MM-DD HH:MM:SS),PMID,License,Retracted`; its Article File names an XML inside a
  bulk tarball, not a package, so these lists add dates and Retracted to the others.

Columns are found by their header names (case, spaces and the '(YYYY...)' hint ignored),
so a mirror that adds or reorders columns still reads.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator

from pmc_pipeline.model import ArticleRef, Layout, ParseError, normalize_pmcid

from .selection import parse_flag

log = logging.getLogger(__name__)

_FIELDS = {
    "file": "location",
    "articlefile": "location",
    "articlecitation": "citation",
    "citation": "citation",
    "accessionid": "pmcid",
    "lastupdated": "last_updated",
    "pmid": "pmid",
    "license": "license",
    "retracted": "retracted",
}
_TXT_COLUMNS = ("location", "citation", "pmcid", "pmid", "license")
_PACKAGE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def is_package(location: str | None) -> bool:
    return bool(location) and location.lower().endswith(_PACKAGE_SUFFIXES)


def _header_field(name: str) -> str | None:
    key = re.sub(r"[^a-z]", "", re.sub(r"\(.*?\)", "", name.lower()))
    return _FIELDS.get(key)


def parse_csv_list(lines: Iterable[str]) -> Iterator[ArticleRef]:
    """ArticleRefs from oa_file_list.csv or a bulk *.filelist.csv."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    columns = {field: i for i, name in enumerate(header) if (field := _header_field(name))}
    if "pmcid" not in columns:
        raise ParseError(f"file_list: no Accession ID column in header {header!r}")
    for number, row in enumerate(reader, start=2):
        if any(cell.strip() for cell in row):
            values = {f: row[i] for f, i in columns.items() if i < len(row)}
            ref = _ref(values, number)
            if ref is not None:
                yield ref


def parse_txt_list(lines: Iterable[str]) -> Iterator[ArticleRef]:
    """ArticleRefs from oa_file_list.txt (its first line, a timestamp, has no tab)."""
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if "\t" not in line:
            continue
        ref = _ref(dict(zip(_TXT_COLUMNS, line.split("\t"), strict=False)), number)
        if ref is not None:
            yield ref


def _ref(values: dict[str, str], line: int) -> ArticleRef | None:
    try:
        pmcid, version = normalize_pmcid(values.get("pmcid", ""))
    except ValueError:
        log.warning("file list line %d: not a PMCID: %r (row skipped)", line, values.get("pmcid"))
        return None
    return ArticleRef(
        pmcid=pmcid,
        version=version,
        layout=Layout.LEGACY,
        location=values.get("location", "").strip(),
        last_updated=_timestamp(values.get("last_updated")),
        pmid=_pmid(values.get("pmid")),
        citation=(values.get("citation") or "").strip() or None,
        license=(values.get("license") or "").strip() or None,
        retracted=parse_flag(values.get("retracted")),
    )


def _pmid(value: str | None) -> str | None:
    text = (value or "").strip()
    if text.upper().startswith("PMID:"):
        text = text[5:].strip()
    return text if text.isdigit() and int(text) > 0 else None


def _timestamp(value: str | None) -> str | None:
    """'2019-11-05 11:56:12' -> '2019-11-05T11:56:12' (NCBI's local time, no zone)."""
    text = (value or "").strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return None
    return text.replace(" ", "T", 1)
