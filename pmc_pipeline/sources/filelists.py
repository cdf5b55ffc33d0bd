"""The legacy layout's file lists, read into ArticleRefs.

- `oa_file_list.csv`: header `File,Article Citation,Accession ID,Last Updated
  (YYYY-MM-DD HH:MM:SS),PMID,License`, one row per package.
- `oa_file_list.txt`: a timestamp line, then tab-separated `File, Citation, Accession ID,
  PMID:nnn, License` (no Last Updated).
- the bulk `*.filelist.csv`: `Article File,Article Citation,AccessionID,LastUpdated
  (YYYY-MM-DD HH:MM:SS),PMID,License,Retracted`; its Article File names an XML inside a
  bulk tarball, not a package, so these lists add dates and Retracted to the others.

Columns are found by their header names (case, spaces and the '(YYYY...)' hint ignored),
so a mirror that adds or reorders columns still reads. A list is read whole or not at all:
the parsers raise ParseError on anything that means it was damaged or cut short (the
caller, legacy.py, reads it again and fails the listing when every attempt fails).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from pmc_pipeline.model import ArticleRef, Layout, ParseError, normalize_pmcid

from .selection import parse_flag

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
    return location is not None and location.lower().endswith(_PACKAGE_SUFFIXES)


def _header_field(name: str) -> str | None:
    key = re.sub(r"[^a-z]", "", re.sub(r"\(.*?\)", "", name.lower()))
    return _FIELDS.get(key)


def parse_csv_list(lines: Iterable[str], *, name: str = "file list") -> Iterator[ArticleRef]:
    """ArticleRefs from oa_file_list.csv or a bulk *.filelist.csv. Raises ParseError (naming
    `name` and the line) for a list without a header or an Accession ID column, a row whose
    field count differs from the header's, a row without a PMCID, or a last line without
    its line break: each means the list was damaged or cut short, and skipping the row
    would silently drop an article, or its Retracted flag."""
    ends = _LineEnds(lines)
    reader = csv.reader(ends)
    header = next(reader, None)
    if header is None:
        raise ParseError(f"{name}: empty (no header line)")
    columns = {field: i for i, cell in enumerate(header) if (field := _header_field(cell))}
    if "pmcid" not in columns:
        raise ParseError(f"{name}: no Accession ID column in header {header!r}")
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ParseError(
                f"{name} line {reader.line_num}: {len(row)} fields, the header has {len(header)}"
            )
        yield _ref({f: row[i] for f, i in columns.items()}, name, reader.line_num)
    ends.check(name)


def parse_txt_list(lines: Iterable[str], *, name: str = "file list") -> Iterator[ArticleRef]:
    """ArticleRefs from oa_file_list.txt: a first line without a tab (a timestamp), then
    tab-separated rows. Raises ParseError as parse_csv_list does: for a later line without
    the fields up to the Accession ID, a row without a PMCID, or a cut-off last line."""
    ends = _LineEnds(lines)
    for number, line in enumerate(ends, start=1):
        line = line.rstrip("\r\n")
        if not line.strip() or (number == 1 and "\t" not in line):
            continue
        cells = line.split("\t")
        if len(cells) < _TXT_COLUMNS.index("pmcid") + 1:
            raise ParseError(f"{name} line {number}: {len(cells)} tab-separated fields")
        yield _ref(dict(zip(_TXT_COLUMNS, cells, strict=False)), name, number)
    if ends.last is None:
        raise ParseError(f"{name}: empty (no timestamp line)")
    ends.check(name)


class _LineEnds:
    """The lines of a text stream, remembering the last one: a list whose last line lacks
    its line break was cut short (every list PMC writes ends with one)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = lines
        self.last: str | None = None

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.last = line
            yield line

    def check(self, name: str) -> None:
        if self.last and not self.last.endswith(("\n", "\r")):
            raise ParseError(f"{name}: the last line has no line break (cut short?)")


def _ref(values: dict[str, str], name: str, line: int) -> ArticleRef:
    try:
        pmcid, version = normalize_pmcid(values.get("pmcid", ""))
    except ValueError:
        raise ParseError(f"{name} line {line}: not a PMCID: {values.get('pmcid')!r}") from None
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
