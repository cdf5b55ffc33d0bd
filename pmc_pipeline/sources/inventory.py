"""The cloud layout's daily S3 inventory of `metadata/`: find the newest manifest, read the
headerless CSV.gz files it names, keep the rows that are article metadata objects.

A manifest (`<prefix><YYYY-MM-DDTHH-MMZ>/manifest.json`) follows Amazon's S3 Inventory
format: `fileSchema` names the CSV columns ('Bucket, Key, LastModifiedDate, ETag'),
`files[]` gives each data file's `key` (bucket-relative) and `MD5checksum`. Keys in the
CSV are URL-encoded.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from pmc_pipeline.model import MissingFile, ParseError, UnsafeInput

from .limits import Limits
from .store import HashingReader, Retryable, Store

INVENTORY_PREFIX = "inventory-reports/pmc-oa-opendata/metadata/"
DEFAULT_SCHEMA = ("bucket", "key", "lastmodifieddate", "etag")
_MANIFEST = re.compile(r"(?:^|/)(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z)/manifest\.json$")
_METADATA_KEY = re.compile(r"^metadata/PMC(\d+)\.(\d+)\.json$")

# (pmcid number, version) -> (last_modified, etag): small tuples, since a full inventory
# has about eight million rows.
Entries = dict[tuple[int, int], tuple[str | None, str | None]]


@dataclass(frozen=True)
class Manifest:
    key: str
    columns: tuple[str, ...]
    files: tuple[tuple[str, str | None], ...]  # (data file key, md5 hex or None)


def metadata_entry(key: str) -> tuple[int, int] | None:
    """(pmcid number, version) of a `metadata/PMCnnn.V.json` key, else None."""
    m = _METADATA_KEY.match(key)
    return (int(m.group(1)), int(m.group(2))) if m else None


def latest_manifest(store: Store, prefix: str = INVENTORY_PREFIX) -> str | None:
    """The key of the newest inventory manifest under `prefix`, or None when there is none."""
    found = [
        (m.group(1), info.key) for info in store.list(prefix) if (m := _MANIFEST.search(info.key))
    ]
    return max(found)[1] if found else None


def read_manifest(store: Store, key: str, limits: Limits) -> Manifest:
    """The manifest at `key`, checked against the md5 in the `manifest.checksum` beside it
    when there is one (S3 Inventory writes it); a body that fails the md5 or does not parse
    is fetched again (see Store.load)."""
    checksum = _manifest_checksum(store, key)

    def parse(data: bytes) -> Manifest:
        try:
            doc = json.loads(data)
            schema = doc.get("fileSchema")
            columns = (
                tuple(re.sub(r"[^a-z]", "", c.lower()) for c in schema.split(","))
                if schema
                else DEFAULT_SCHEMA
            )
            files = tuple(
                (f["key"], (f.get("MD5checksum") or "").lower() or None) for f in doc["files"]
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ParseError(f"inventory_manifest: {key}: {exc}") from exc
        if "key" not in columns:
            raise ParseError(f"inventory_manifest: {key}: fileSchema has no Key column")
        return Manifest(key, columns, files)

    return store.load(key, parse, max_bytes=limits.manifest, md5=checksum)


def _manifest_checksum(store: Store, key: str) -> str | None:
    """The md5 hex in the manifest.checksum beside a manifest, or None when it has none."""
    checksum_key = key.rsplit("/", 1)[0] + "/manifest.checksum"

    def parse(data: bytes) -> str:
        text = data.decode("ascii", errors="replace").strip().lower()
        if not re.fullmatch(r"[0-9a-f]{32}", text):
            raise ParseError(f"inventory_manifest: {checksum_key} holds no md5: {text[:80]!r}")
        return text

    try:
        return store.load(checksum_key, parse, max_bytes=1024)
    except MissingFile:
        return None


def read_inventory(store: Store, manifest: Manifest, limits: Limits) -> Entries:
    """Every article metadata object the inventory lists."""
    entries: Entries = {}
    for key, md5 in manifest.files:
        entries.update(
            store.retry.call(functools.partial(_read_data_file, store, key, md5, manifest, limits))
        )
    return entries


def _read_data_file(
    store: Store, key: str, md5: str | None, manifest: Manifest, limits: Limits
) -> Entries:
    """One attempt at one data file; the rows count only once its md5 and CRC check out."""
    col = {name: i for i, name in enumerate(manifest.columns)}
    entries: Entries = {}
    with store.open(key, max_bytes=limits.listing) as raw:
        hashing = HashingReader(raw, md5=True)
        try:
            text = io.TextIOWrapper(gzip.GzipFile(fileobj=hashing), encoding="utf-8", newline="")
            for line, row in enumerate(_bounded_rows(text, limits.listing), start=1):
                if not row:
                    continue
                if len(row) != len(manifest.columns):
                    raise ParseError(
                        f"line {line} has {len(row)} fields, the manifest's fileSchema "
                        f"{len(manifest.columns)}"
                    )
                entry = metadata_entry(unquote(row[col["key"]]))
                if entry is not None:
                    entries[entry] = (_cell(row, col, "lastmodifieddate"), _cell(row, col, "etag"))
        except (OSError, EOFError, UnicodeDecodeError, csv.Error, ParseError) as exc:
            # OSError covers gzip.BadGzipFile (a bad CRC): corrupt in transit, or at rest.
            raise Retryable(f"corrupt_inventory: {key}: {exc}") from exc
    assert hashing.md5 is not None  # made with md5=True
    if md5 and hashing.md5.hexdigest() != md5:
        raise Retryable(f"md5_mismatch: {key} (expected {md5})")
    return entries


def _cell(row: list[str], col: dict[str, int], name: str) -> str | None:
    i = col.get(name)
    return (row[i].strip().strip('"') or None) if i is not None and i < len(row) else None


def _bounded_rows(text: io.TextIOWrapper, max_chars: int) -> Iterator[list[str]]:
    """CSV rows, refusing to decompress more than `max_chars` characters (a gzip bomb)."""
    seen = 0
    for row in csv.reader(text):
        seen += sum(len(c) + 1 for c in row)
        if seen > max_chars:
            raise UnsafeInput(f"decompression_bomb: inventory file expands past {max_chars}")
        yield row
