"""The cloud layout (`s3://pmc-oa-opendata` as of late 2026), written to a directory.

    PMC10009416.1/PMC10009416.1.xml  .txt  .json  .pdf  <media files by publisher name>
    metadata/PMC10009416.1.json       (the same bytes as the folder's .json)
    inventory-reports/pmc-oa-opendata/metadata/<YYYY-MM-DDT01-00Z>/manifest.json
    inventory-reports/pmc-oa-opendata/metadata/<YYYY-MM-DDT01-00Z>/manifest.checksum
    inventory-reports/pmc-oa-opendata/metadata/data/<uuid>.csv.gz

The metadata JSON names every file with `s3://pmc-oa-opendata/<key>?md5=<hex>`. The daily
inventories follow Amazon's S3 Inventory format (manifest.json with fileSchema "Bucket,
Key, LastModifiedDate, ETag" and the gzipped, headerless CSV files it lists) and list the
metadata/ objects as they stood at 01:00 UTC of their day: an article version modified
later is only in a later day's inventory. There are no tarballs in this layout.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pmc_pipeline.mirror.bundle import VersionBundle
from pmc_pipeline.mirror.files import write_file
from pmc_pipeline.mirror.rng import derive_uuid

BUCKET = "pmc-oa-opendata"
INVENTORY_PREFIX = f"inventory-reports/{BUCKET}/metadata/"


@dataclass(frozen=True)
class InventoryRow:
    key: str  # 'metadata/PMC10009416.1.json'
    last_modified: str  # ISO 8601 UTC
    etag: str  # md5 hex (single-part upload)
    size: int


def folder(pmcid: str, version: int) -> str:
    return f"{pmcid}.{version}/"


def _url(key: str, data: bytes) -> str:
    return f"s3://{BUCKET}/{key}?md5={hashlib.md5(data).hexdigest()}"


def _metadata_json(bundle: VersionBundle, prefix: str, stem: str) -> bytes:
    facts = bundle.facts
    meta = {
        "pmcid": bundle.pmcid,
        "version": bundle.version,
        "pmid": facts.pmid,
        "doi": facts.doi,
        "mid": facts.mid,
        "title": facts.title,
        "citation": facts.citation,
        "is_pmc_openaccess": facts.open_access,
        "is_manuscript": facts.manuscript,
        "is_historical_ocr": facts.historical_ocr,
        "is_retracted": facts.retracted,
        "license_code": facts.license_code,
        "xml_url": _url(f"{prefix}{stem}.xml", bundle.xml),
        "text_url": _url(f"{prefix}{stem}.txt", bundle.text.encode("utf-8")),
        "pdf_url": _url(f"{prefix}{stem}.pdf", bundle.pdf) if bundle.pdf is not None else None,
        "media_urls": [_url(f"{prefix}{m.name}", m.data) for m in bundle.media],
    }
    return (json.dumps(meta, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_version(root: Path, bundle: VersionBundle) -> tuple[InventoryRow, int, int]:
    """Write one article version; (its inventory row, files written, bytes written)."""
    prefix = folder(bundle.pmcid, bundle.version)
    stem = f"{bundle.pmcid}.{bundle.version}"
    files: dict[str, bytes] = {
        f"{prefix}{stem}.xml": bundle.xml,
        f"{prefix}{stem}.txt": bundle.text.encode("utf-8"),
    }
    if bundle.pdf is not None:
        files[f"{prefix}{stem}.pdf"] = bundle.pdf
    for media in bundle.media:
        files[f"{prefix}{media.name}"] = media.data
    metadata = _metadata_json(bundle, prefix, stem)
    files[f"{prefix}{stem}.json"] = metadata
    files[f"metadata/{stem}.json"] = metadata
    for key, data in files.items():
        write_file(root, key, data, bundle.updated)
    bundle.truth["location"] = prefix
    row = InventoryRow(
        key=f"metadata/{stem}.json",
        last_modified=bundle.updated.replace("Z", ".000Z"),
        etag=hashlib.md5(metadata).hexdigest(),
        size=len(metadata),
    )
    return row, len(files), sum(len(d) for d in files.values())


def _gzip(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(data)
    return out.getvalue()


def _csv_gz(rows: list[InventoryRow]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in rows:
        writer.writerow([BUCKET, row.key, row.last_modified, row.etag])
    return _gzip(text.getvalue().encode("utf-8"))


def write_inventories(
    root: Path,
    rows: list[InventoryRow],
    seed: int,
    snapshot_date: str,
    days: int,
    rows_per_file: int,
) -> tuple[int, int]:
    """Write `days` daily inventories ending on snapshot_date; (files, bytes) written."""
    snapshot = datetime.fromisoformat(snapshot_date).replace(hour=1, minute=0, second=0)
    rows = sorted(rows, key=lambda r: r.key)  # S3 Inventory lists keys in order
    files = total = 0
    for back in range(days - 1, -1, -1):
        day = snapshot - timedelta(days=back)
        stamp = day.strftime("%Y-%m-%dT%H-%MZ")
        cutoff = day.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        listed = [r for r in rows if r.last_modified <= cutoff]
        data_files: list[dict[str, Any]] = []
        for n, start in enumerate(range(0, max(1, len(listed)), rows_per_file)):
            data = _csv_gz(listed[start : start + rows_per_file])
            key = f"{INVENTORY_PREFIX}data/{derive_uuid(seed, 'inventory', stamp, n)}.csv.gz"
            write_file(root, key, data, cutoff)
            data_files.append(
                {"key": key, "size": len(data), "MD5checksum": hashlib.md5(data).hexdigest()}
            )
        manifest = {
            "sourceBucket": BUCKET,
            "destinationBucket": f"arn:aws:s3:::{BUCKET}",
            "version": "2016-11-30",
            "creationTimestamp": str(int(day.replace(tzinfo=UTC).timestamp() * 1000)),
            "fileFormat": "CSV",
            "fileSchema": "Bucket, Key, LastModifiedDate, ETag",
            "files": data_files,
        }
        manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode("utf-8")
        write_file(root, f"{INVENTORY_PREFIX}{stamp}/manifest.json", manifest_bytes, cutoff)
        checksum = (hashlib.md5(manifest_bytes).hexdigest() + "\n").encode("ascii")
        write_file(root, f"{INVENTORY_PREFIX}{stamp}/manifest.checksum", checksum, cutoff)
        files += len(data_files) + 2
        total += sum(f["size"] for f in data_files) + len(manifest_bytes) + len(checksum)
    return files, total
