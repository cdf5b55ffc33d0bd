"""Small PMC trees (cloud and legacy layouts) built inside tests, byte by byte as
docs/sources.md describes them, for the sources tests. The synthetic mirror generator
(pmc_pipeline.mirror) is tested against the same readers separately."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

CLOUD_BUCKET = "pmc-oa-opendata"


def jpeg_bytes(seed: int, size: int = 2000) -> bytes:
    """Bytes that stand for an image (sources never decode them): distinct per seed and,
    like real JPEG data, incompressible."""
    return b"\xff\xd8\xff\xe0" + random.Random(seed).randbytes(size - 4)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def picture(seed: int, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> bytes:
    """A real, decodable image file (random pixels), for tests that run extract; a .gif
    thumbnail when fmt is 'GIF'."""
    from PIL import Image

    width, height = size
    pixels = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, fmt)
    return out.getvalue()


def jats(
    pmcid: str, hrefs: list[str], *, alternatives: bool = False, caption: str = "c{i}"
) -> bytes:
    """A minimal JATS article with one <fig> per href (cloud style: <alternatives> with
    the full image and a .gif thumbnail); `caption` is formatted with the figure's i."""
    figs = []
    for i, href in enumerate(hrefs, 1):
        if alternatives:
            thumb = href.rsplit(".", 1)[0] + ".gif"
            graphic = (
                f'<alternatives><graphic content-type="image" xlink:href="{href}"/>'
                f'<graphic content-type="thumb" xlink:href="{thumb}"/></alternatives>'
            )
        else:
            graphic = f'<graphic xlink:href="{href}"/>'
        figs.append(
            f'<fig id="F{i}"><label>Figure {i}</label><caption><p>{caption.format(i=i)}</p>'
            f"</caption>{graphic}</fig>"
        )
    return (
        '<?xml version="1.0"?>\n<article xmlns:xlink="http://www.w3.org/1999/xlink"><front>'
        f'<article-meta><article-id pub-id-type="pmcid">{pmcid}</article-id></article-meta>'
        f"</front><body>{''.join(figs)}</body></article>"
    ).encode()


# --- cloud ---------------------------------------------------------------------------------


@dataclass
class CloudArticle:
    number: int
    version: int = 1
    figures: int = 2
    license_code: str = "CC BY"
    retracted: bool = False
    open_access: bool = True
    with_media_urls: bool = True
    images: dict[str, bytes] = field(default_factory=dict)  # filled by write_cloud_article

    @property
    def stem(self) -> str:
        return f"PMC{self.number}.{self.version}"


def write_cloud_article(root: Path, article: CloudArticle) -> dict:
    """Write one article version folder and its metadata copy; returns the metadata."""
    folder = root / article.stem
    folder.mkdir(parents=True, exist_ok=True)
    hrefs = [f"a{article.number}-g{i:03d}.jpg" for i in range(1, article.figures + 1)]
    xml = jats(f"PMC{article.number}", hrefs, alternatives=True)
    files = {f"{article.stem}.xml": xml, f"{article.stem}.pdf": b"%PDF-1.4 not an image"}
    for i, href in enumerate(hrefs):
        full = jpeg_bytes(article.number * 1000 + article.version * 100 + i)
        article.images[href] = full
        files[href] = full
        files[href.replace(".jpg", ".gif")] = b"GIF89a thumbnail " + href.encode()
    files[f"a{article.number}-s001.docx"] = b"supplement"
    for name, data in files.items():
        (folder / name).write_bytes(data)

    def url(name: str) -> str:
        return f"s3://{CLOUD_BUCKET}/{article.stem}/{name}?md5={md5(files[name])}"

    metadata = {
        "pmcid": f"PMC{article.number}",
        "version": article.version,
        "pmid": str(30000000 + article.number),
        "doi": f"10.1000/{article.number}",
        "title": f"Article {article.number}",
        "citation": f"J Test. 2024; {article.number}",
        "is_pmc_openaccess": article.open_access,
        "is_manuscript": False,
        "is_historical_ocr": False,
        "is_retracted": article.retracted,
        "license_code": article.license_code,
        "xml_url": url(f"{article.stem}.xml"),
        "pdf_url": url(f"{article.stem}.pdf"),
        "media_urls": [url(n) for n in files if not n.endswith((".xml", ".pdf"))],
    }
    if not article.with_media_urls:
        del metadata["media_urls"]
    text = json.dumps(metadata, indent=1).encode()
    (folder / f"{article.stem}.json").write_bytes(text)
    (root / "metadata").mkdir(exist_ok=True)
    (root / "metadata" / f"{article.stem}.json").write_bytes(text)
    return metadata


def write_inventory(
    root: Path, stamp: str, rows: list[tuple[str, str, str]], parts: int = 2
) -> Path:
    """A daily inventory of metadata/: manifest.json and `parts` headerless CSV.gz files
    with columns Bucket, Key, LastModifiedDate, ETag. rows: (key, last_modified, etag)."""
    base = root / "inventory-reports" / CLOUD_BUCKET / "metadata"
    (base / stamp).mkdir(parents=True, exist_ok=True)
    (base / "data").mkdir(parents=True, exist_ok=True)
    files = []
    for part in range(parts):
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for key, modified, etag in rows[part::parts]:
            writer.writerow([CLOUD_BUCKET, key, modified, etag])
        data = gzip.compress(out.getvalue().encode(), mtime=0)
        key = f"inventory-reports/{CLOUD_BUCKET}/metadata/data/{stamp}-{part}.csv.gz"
        (root / key).write_bytes(data)
        files.append({"key": key, "size": len(data), "MD5checksum": md5(data)})
    manifest = {
        "sourceBucket": CLOUD_BUCKET,
        "destinationBucket": f"arn:aws:s3:::{CLOUD_BUCKET}",
        "version": "2016-11-30",
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, LastModifiedDate, ETag",
        "files": files,
    }
    path = base / stamp / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


# --- legacy --------------------------------------------------------------------------------


def tar_gz(members: list[tarfile.TarInfo | tuple[str, bytes]], *, compress: bool = True) -> bytes:
    """A tar(.gz) in memory from (name, data) pairs and ready-made TarInfo headers."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class LegacyArticle:
    number: int
    figures: int = 2
    license: str = "CC BY"
    last_updated: str = "2024-03-01 10:00:00"
    retracted: bool = False
    images: dict[str, bytes] = field(default_factory=dict)

    @property
    def location(self) -> str:
        h = md5(str(self.number).encode())
        return f"oa_package/{h[:2]}/{h[2:4]}/PMC{self.number}.tar.gz"


def write_legacy_article(root: Path, article: LegacyArticle) -> None:
    """A package with the nxml (hrefs without extension), .jpg + .gif per figure, a PDF."""
    pmcid = f"PMC{article.number}"
    hrefs = [f"{pmcid.lower()}-f{i}" for i in range(1, article.figures + 1)]
    members = [(f"{pmcid}/article.nxml", jats(pmcid, hrefs))]
    for i, href in enumerate(hrefs):
        full = jpeg_bytes(article.number * 1000 + i)
        article.images[href] = full
        members += [(f"{pmcid}/{href}.gif", b"GIF89a thumb"), (f"{pmcid}/{href}.jpg", full)]
    members.append((f"{pmcid}/article.pdf", b"%PDF-1.4"))
    path = root / article.location
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tar_gz(members))


# The legacy file lists' header lines, as NCBI writes them (oa_file_list.csv; the bulk
# filelists). Written out here rather than imported from pmc_pipeline.mirror, so that the
# tests hold the mirror's files to NCBI's format, not to the mirror's own copy of it.
FILE_LIST_HEADER = (
    "File,Article Citation,Accession ID,Last Updated (YYYY-MM-DD HH:MM:SS),PMID,License"
).split(",")
BULK_LIST_HEADER = (
    "Article File,Article Citation,AccessionID,LastUpdated (YYYY-MM-DD HH:MM:SS),PMID,License,"
    "Retracted"
).split(",")


def write_legacy_tree(root: Path, articles: list[LegacyArticle]) -> Path:
    """A legacy root: every article's package, the file lists and a bulk list."""
    for article in articles:
        write_legacy_article(root, article)
    write_file_lists(root, articles)
    return root


def citation(article: LegacyArticle) -> str:
    return f"J Test. 2024 Mar 1; {article.number}(1):1-{article.number}, with a comma"


def write_file_lists(root: Path, articles: list[LegacyArticle], *, bulk: bool = True) -> None:
    """oa_file_list.csv, oa_file_list.txt and (optionally) a bulk filelist with Retracted."""
    with open(root / "oa_file_list.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FILE_LIST_HEADER)
        for a in articles:
            writer.writerow(
                [
                    a.location,
                    citation(a),
                    f"PMC{a.number}",
                    a.last_updated,
                    str(20000 + a.number),
                    a.license,
                ]
            )
    lines = ["2024-06-18 11:05:44"] + [
        f"{a.location}\t{citation(a)}\tPMC{a.number}\tPMID:{20000 + a.number}\t{a.license}"
        for a in articles
    ]
    (root / "oa_file_list.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if bulk:
        write_bulk_list(
            root / "oa_bulk/oa_comm/xml/oa_comm_xml.PMC000xxxxxx.baseline.2024-06-18.filelist.csv",
            articles,
        )


def write_bulk_list(path: Path, articles: list[LegacyArticle]) -> None:
    """A bulk *.filelist.csv: Article File names an XML in a bulk tarball; has Retracted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(BULK_LIST_HEADER)
        for a in articles:
            writer.writerow(
                [
                    f"PMC000xxxxxx/PMC{a.number}.xml",
                    citation(a),
                    f"PMC{a.number}",
                    a.last_updated,
                    str(20000 + a.number),
                    a.license,
                    "yes" if a.retracted else "no",
                ]
            )
