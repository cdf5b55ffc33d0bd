"""The PMC Cloud Service layout (`s3://pmc-oa-opendata`, late 2026): one folder per article
version, `PMCnnn.V/`, its metadata JSON copied to `metadata/PMCnnn.V.json`, and a daily
inventory of `metadata/`. There are no tarballs: an article costs its metadata, its XML
and the figure images its XML references, each fetched alone and checked against the
`?md5=` its metadata URL carries.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from pmc_pipeline.model import ArticleRef, Layout, LayoutError, MissingFile, ParseError

from .base import (
    LEGACY_MARKERS,
    ArticleFiles,
    Source,
    has_objects,
    listing_errors,
    markers_found,
    parse_pmcids,
    pmcid_number,
)
from .inventory import (
    INVENTORY_PREFIX,
    Entries,
    latest_manifest,
    metadata_entry,
    read_inventory,
    read_manifest,
)
from .limits import Limits
from .pairing import is_image, match_href
from .selection import updated_since
from .store import Store

LISTINGS = ("auto", "inventory", "metadata")
METADATA = "metadata/"  # a copy of each version's metadata JSON: metadata/PMCnnn.V.json


class CloudSource(Source):
    """listing: 'inventory' (the newest daily inventory), 'metadata' (list `metadata/`), or
    'auto' (the inventory when one exists, else the listing)."""

    layout = Layout.CLOUD

    def __init__(
        self,
        store: Store,
        *,
        limits: Limits | None = None,
        listing: str = "auto",
        inventory_prefix: str = INVENTORY_PREFIX,
    ) -> None:
        if listing not in LISTINGS:
            raise ValueError(f"listing must be one of {LISTINGS}, not {listing!r}")
        self.store = store
        self.limits = limits or Limits()
        self.listing = listing
        self.inventory_prefix = inventory_prefix

    # --- listing ------------------------------------------------------------------------

    def check_root(self) -> None:
        """The root must hold the inventory (under `inventory_prefix`) or `metadata/`."""
        with listing_errors(self.store):
            if has_objects(self.store, self.inventory_prefix) or has_objects(self.store, METADATA):
                return
            legacy = markers_found(self.store, LEGACY_MARKERS)
        looked_for = f"no inventory under {self.inventory_prefix} and no {METADATA}"
        if legacy:
            raise LayoutError(
                f"{self.store.uri} looks like a legacy PMC root (it has {', '.join(legacy)}) "
                f"and has {looked_for}: use --layout legacy"
            )
        raise LayoutError(
            f"{self.store.uri} is not a cloud PMC root: it has {looked_for} (nor the legacy "
            f"layout's {', '.join(LEGACY_MARKERS)})"
        )

    def _list(
        self, since: dt.date | None, pmcids: Iterable[str] | None, all_versions: bool
    ) -> Iterator[ArticleRef]:
        if pmcids is not None:
            self.listed_from = {"kind": "pmcids"}
            with listing_errors(self.store):
                refs = self._list_pmcids(pmcids, since, all_versions)
            yield from refs
            return
        with listing_errors(self.store):
            entries = self._entries()
        if not all_versions:
            entries = _newest(entries)
        for (number, version), (modified, etag) in sorted(entries.items()):
            if updated_since(modified, since):
                yield _ref(number, version, modified, etag)

    def _entries(self) -> Entries:
        manifest = None
        if self.listing in ("auto", "inventory"):
            manifest = latest_manifest(self.store, self.inventory_prefix)
            if manifest is None and self.listing == "inventory":
                raise MissingFile(f"missing: no inventory manifest under {self.inventory_prefix}")
        if manifest is not None:
            self.listed_from = {
                "kind": "inventory",
                "manifest": manifest,
                "date": _date_of(manifest),
            }
            return read_inventory(
                self.store, read_manifest(self.store, manifest, self.limits), self.limits
            )
        self.listed_from = {"kind": "metadata", "prefix": METADATA}
        return self._list_metadata(METADATA)

    def _list_metadata(self, prefix: str) -> Entries:
        entries: Entries = {}
        for info in self.store.list(prefix):
            entry = metadata_entry(info.key)
            if entry is not None:
                entries[entry] = (info.last_modified, info.etag)
        return entries

    def _list_pmcids(
        self, pmcids: Iterable[str], since: dt.date | None, all_versions: bool
    ) -> list[ArticleRef]:
        """A versioned ID is taken as given (no request); an unversioned one is looked up
        under `metadata/`. An ID with no version found is still listed (version None) so
        that it ends with a recorded reason."""
        found: Entries = {}
        unknown = []
        for pmcid, version in parse_pmcids(pmcids):
            number = pmcid_number(pmcid)
            if version is not None:
                found[(number, version)] = (None, None)
                continue
            versions = self._list_metadata(f"{METADATA}{pmcid}.")
            if not versions:
                unknown.append(number)
            found.update(versions if all_versions else _newest(versions))
        refs = [_ref(n, v, m, e) for (n, v), (m, e) in found.items() if updated_since(m, since)]
        refs += [ArticleRef(f"PMC{n}", None, Layout.CLOUD, f"PMC{n}/") for n in unknown]
        return sorted(refs, key=lambda r: (pmcid_number(r.pmcid), r.version or 0))

    # --- one article --------------------------------------------------------------------

    def open_article(self, ref: ArticleRef) -> CloudArticleFiles:
        if ref.version is None:
            raise MissingFile(f"missing: no version of {ref.pmcid} under metadata/")
        files = CloudArticleFiles(self.store, ref, self.limits)
        files.load_metadata()
        return files


class CloudArticleFiles(ArticleFiles):
    def __init__(self, store: Store, ref: ArticleRef, limits: Limits) -> None:
        self.store = store
        self.ref = ref
        self.limits = limits
        self.metadata: dict | None = None
        self.bytes_read = 0
        self._xml: bytes | None = None
        self._media: dict[str, str | None] | None = None

    @property
    def stem(self) -> str:
        return f"{self.ref.pmcid}.{self.ref.version}"

    def _get(self, key: str, max_bytes: int, md5: str | None = None) -> bytes:
        data = self.store.get(key, max_bytes=max_bytes, md5=md5)
        self.bytes_read += len(data)
        return data

    def load_metadata(self) -> None:
        """Read the metadata JSON (before anything else: it decides exclusion). The copy
        under metadata/ is the listed one; the one in the article folder is the fallback."""
        try:
            self.metadata = self._load_json(f"{METADATA}{self.stem}.json")
        except MissingFile:
            self.metadata = self._load_json(f"{self.ref.location}{self.stem}.json")

    def _load_json(self, key: str) -> dict:
        """A JSON object; one that does not parse is fetched again (it carries no md5, so
        the damage may be in transit), see Store.load."""

        def parse(data: bytes) -> dict:
            self.bytes_read += len(data)
            try:
                metadata = json.loads(data)
            except ValueError as exc:
                raise ParseError(f"metadata_json: {key}: {exc}") from exc
            if not isinstance(metadata, dict):
                raise ParseError(f"metadata_json: {key}: not a JSON object")
            return metadata

        return self.store.load(key, parse, max_bytes=self.limits.metadata)

    def _url_key(self, url: str) -> tuple[str, str | None]:
        """(key under the root, md5) of a metadata URL such as
        's3://pmc-oa-opendata/PMC1.1/PMC1.1.xml?md5=ab12': the article folder onwards,
        whatever bucket or host the URL names, so mirrors resolve too."""
        parts = urlsplit(url)
        md5s = parse_qs(parts.query).get("md5")
        md5 = md5s[0] if md5s else None
        path = "/" + unquote(parts.path).lstrip("/")
        at = path.find("/" + self.ref.location)
        key = path[at + 1 :] if at >= 0 else path[1:]
        return key, md5.lower() if md5 else None

    def xml(self) -> bytes:
        if self._xml is None:
            url = (self.metadata or {}).get("xml_url")
            key, md5 = self._url_key(url) if url else (f"{self.ref.location}{self.stem}.xml", None)
            self._xml = self._get(key, self.limits.xml, md5)
        return self._xml

    def media(self) -> dict[str, str | None] | None:
        """Image files the metadata lists for this version (key -> md5); None when the
        metadata has no media_urls. PDFs and supplements are left out."""
        if self._media is None:
            urls = (self.metadata or {}).get("media_urls")
            if not isinstance(urls, list):
                return None
            self._media = {}
            for url in urls:
                if isinstance(url, str):
                    key, md5 = self._url_key(url)
                    if is_image(key):
                        self._media[key] = md5
        return self._media

    def image(self, href: str) -> tuple[str, bytes]:
        media = self.media()
        if media is None:
            # No media list to consult: the href names the file (cloud hrefs carry their
            # extension); only image files are fetched.
            key = f"{self.ref.location}{href.lstrip('/')}"
            if not is_image(key):
                raise MissingFile(f"missing: href {href!r} of {self.stem} names no image file")
            return key, self._get(key, self.limits.image)
        matched = match_href(href, media)
        if matched is None:
            raise MissingFile(f"missing: no image among {self.stem}'s media for href {href!r}")
        return matched, self._get(matched, self.limits.image, media[matched])


def _date_of(manifest_key: str) -> str | None:
    """The inventory's date from its folder name (`.../2026-11-30T01-00Z/manifest.json`)."""
    match = re.search(r"/(\d{4}-\d{2}-\d{2})T[^/]*/manifest\.json$", manifest_key)
    return match.group(1) if match else None


def _newest(entries: Entries) -> Entries:
    best: Entries = {}
    newest: dict[int, int] = {}
    for (number, version), value in entries.items():
        if version > newest.get(number, -1):
            if number in newest:
                del best[(number, newest[number])]
            newest[number] = version
            best[(number, version)] = value
    return best


def _ref(number: int, version: int, modified: str | None, etag: str | None) -> ArticleRef:
    return ArticleRef(
        pmcid=f"PMC{number}",
        version=version,
        layout=Layout.CLOUD,
        location=f"PMC{number}.{version}/",
        last_updated=modified,
        etag=etag,
    )
