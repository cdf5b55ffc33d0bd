"""The legacy FTP layout (as many groups still mirror it), written to a directory.

    oa_file_list.csv    File,Article Citation,Accession ID,Last Updated (YYYY-MM-DD HH:MM:SS),PMID,License
    oa_file_list.txt    a timestamp line, then File<TAB>Citation<TAB>Accession ID<TAB>PMID:nnn<TAB>License
    oa_package/xx/yy/PMCnnn.tar.gz   PMCnnn/<stem>.nxml, <stem>.pdf, <href>.jpg + <href>.gif, supplements
    oa_bulk/oa_comm/xml/oa_comm_xml.PMC010xxxxxx.baseline.<date>.filelist.csv (and .txt, .tar.gz)

One package per article: the newest version, open access only. The bulk lists (per licence
group, oa_comm / oa_noncomm / oa_other, and per million PMCIDs) name each article's XML in
the bulk tarball next to them and carry the Retracted column the main lists lack.
Tarballs are deterministic: sorted members, fixed owner and modes, mtime = the article's
last update, gzip header without name or time.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from pmc_pipeline.mirror.bundle import VersionBundle
from pmc_pipeline.mirror.files import epoch, safe_key, write_file

FILE_LIST_HEADER = [
    "File",
    "Article Citation",
    "Accession ID",
    "Last Updated (YYYY-MM-DD HH:MM:SS)",
    "PMID",
    "License",
]
BULK_HEADER = [
    "Article File",
    "Article Citation",
    "AccessionID",
    "LastUpdated (YYYY-MM-DD HH:MM:SS)",
    "PMID",
    "License",
    "Retracted",
]
COMMERCIAL = ("CC0", "CC BY", "CC BY-SA", "CC BY-ND")
# Package members are nearly all incompressible (PDF, JPEG): level 1 shrinks them as much
# as level 6 does, 25% faster.
GZIP_LEVEL = 1


@dataclass(frozen=True)
class FileListRow:
    location: str  # 'oa_package/08/e0/PMC13900.tar.gz'
    citation: str
    pmcid: str
    last_updated: str  # 'YYYY-MM-DD HH:MM:SS'
    pmid: int | None
    license: str
    retracted: bool


def package_path(pmcid: str) -> str:
    """'oa_package/xx/yy/PMCnnn.tar.gz': two levels of hex from a hash of the PMCID, as
    NCBI spread packages over random-looking folders."""
    digest = hashlib.md5(pmcid.encode("ascii")).hexdigest()
    return f"oa_package/{digest[:2]}/{digest[2:4]}/{pmcid}.tar.gz"


def license_group(code: str | None) -> str:
    if code in COMMERCIAL:
        return "oa_comm"
    if code and "NC" in code.split("-"):
        return "oa_noncomm"
    return "oa_other"


def range_label(pmcid: str) -> str:
    """'PMC010xxxxxx' for PMC10009416: the million the bulk files group PMCIDs by."""
    return f"PMC{int(pmcid[3:]) // 1_000_000:03d}xxxxxx"


def _tar_info(name: str, size: int, mtime: int, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0 if directory else size
    info.mtime = mtime
    info.mode = 0o755 if directory else 0o644
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _write_tar_gz(path: Path, members: dict[str, bytes], directory: str | None, mtime: int) -> int:
    """A deterministic .tar.gz of `members` (sorted) under `directory`; its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw:
        with gzip.GzipFile(
            fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0, filename=""
        ) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
                if directory:
                    tar.addfile(_tar_info(directory, 0, mtime, directory=True))
                for name in sorted(members):
                    data = members[name]
                    full = f"{directory}/{name}" if directory else name
                    tar.addfile(_tar_info(full, len(data), mtime), io.BytesIO(data))
        return raw.tell()


def write_package(root: Path, bundle: VersionBundle) -> tuple[FileListRow, int, int]:
    """Write one article package; (its file-list row, files written, bytes written)."""
    members = {f"{bundle.stem}.nxml": bundle.xml}
    if bundle.pdf is not None:
        members[f"{bundle.stem}.pdf"] = bundle.pdf
    for media in bundle.media:
        members[str(safe_key(media.name))] = media.data
    location = package_path(bundle.pmcid)
    path = root.joinpath(*safe_key(location).parts)
    mtime = int(epoch(bundle.updated))
    size = _write_tar_gz(path, members, bundle.pmcid, mtime)
    os.utime(path, (mtime, mtime))
    bundle.truth["location"] = location
    facts = bundle.facts
    row = FileListRow(
        location=location,
        citation=facts.citation or "",
        pmcid=bundle.pmcid,
        last_updated=bundle.updated.replace("T", " ").rstrip("Z"),
        pmid=facts.pmid,
        license=facts.license_code or "NO-CC CODE",
        retracted=facts.retracted,
    )
    return row, 1, size


class _TarStream:
    """A .tar.gz written member by member (the bulk tarballs hold every article's XML;
    streaming keeps them out of memory)."""

    def __init__(self, path: Path, mtime: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.mtime = mtime
        self._raw = path.open("wb")
        self._gz = gzip.GzipFile(
            fileobj=self._raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0, filename=""
        )
        self._tar = tarfile.open(fileobj=self._gz, mode="w", format=tarfile.GNU_FORMAT)

    def add(self, name: str, data: bytes) -> None:
        self._tar.addfile(_tar_info(name, len(data), self.mtime), io.BytesIO(data))

    def close(self) -> int:
        self._tar.close()
        self._gz.close()
        size = self._raw.tell()
        self._raw.close()
        os.utime(self.path, (self.mtime, self.mtime))
        return size


class Listings:
    """Collects the packages' rows (and, for the bulk tarballs, their XML, streamed in
    arrival order); `finish` writes the file lists."""

    def __init__(self, root: Path, snapshot_date: str, bulk: bool) -> None:
        self.root = root
        self.date = snapshot_date
        self.stamp = f"{snapshot_date}T01:00:00Z"
        self.bulk = bulk
        self.rows: list[FileListRow] = []
        self._tars: dict[str, _TarStream] = {}
        self.files = 0
        self.bytes = 0

    def _bulk_base(self, row: FileListRow) -> str:
        group = license_group(row.license)
        return f"oa_bulk/{group}/xml/{group}_xml.{range_label(row.pmcid)}.baseline.{self.date}"

    def add(self, row: FileListRow, xml: bytes) -> None:
        self.rows.append(row)
        if self.bulk:
            base = self._bulk_base(row)
            if base not in self._tars:
                path = self.root.joinpath(*safe_key(f"{base}.tar.gz").parts)
                self._tars[base] = _TarStream(path, int(epoch(self.stamp)))
            self._tars[base].add(f"{range_label(row.pmcid)}/{row.pmcid}.xml", xml)

    def _write(self, key: str, data: bytes) -> None:
        write_file(self.root, key, data, self.stamp)
        self.files += 1
        self.bytes += len(data)

    def finish(self) -> None:
        rows = sorted(self.rows, key=lambda r: int(r.pmcid[3:]))
        self._write("oa_file_list.csv", _csv(FILE_LIST_HEADER, [_main_cells(r) for r in rows]))
        lines = [f"{self.date} 01:00:00"]
        for r in rows:
            pmid = f"PMID:{r.pmid}" if r.pmid is not None else ""
            lines.append("\t".join((r.location, r.citation, r.pmcid, pmid, r.license)))
        self._write("oa_file_list.txt", ("\n".join(lines) + "\n").encode("utf-8"))
        by_base: dict[str, list[FileListRow]] = {}
        for r in rows:
            by_base.setdefault(self._bulk_base(r), []).append(r)
        for base, group_rows in sorted(by_base.items()) if self.bulk else ():
            cells = [_bulk_cells(r) for r in group_rows]
            self._write(f"{base}.filelist.csv", _csv(BULK_HEADER, cells))
            text = "\n".join("\t".join(c) for c in [BULK_HEADER, *cells]) + "\n"
            self._write(f"{base}.filelist.txt", text.encode("utf-8"))
            self.bytes += self._tars.pop(base).close()
            self.files += 1

    def abort(self) -> None:
        for tar in self._tars.values():
            tar.close()
        self._tars.clear()


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _main_cells(r: FileListRow) -> list[str]:
    return [
        r.location,
        r.citation,
        r.pmcid,
        r.last_updated,
        "" if r.pmid is None else str(r.pmid),
        r.license,
    ]


def _bulk_cells(r: FileListRow) -> list[str]:
    member = f"{range_label(r.pmcid)}/{r.pmcid}.xml"
    pmid = "" if r.pmid is None else str(r.pmid)
    return [
        member,
        r.citation,
        r.pmcid,
        r.last_updated,
        pmid,
        r.license,
        "yes" if r.retracted else "no",
    ]
