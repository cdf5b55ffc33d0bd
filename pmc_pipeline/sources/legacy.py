"""The legacy FTP layout (what PMC-15M was built from; gone from NCBI since August 2026,
alive in mirrors): file lists at the root and one `oa_package/xx/yy/PMCnnn.tar.gz` per
article, read from any store. A package is streamed once, in memory, when the article's
XML or first image is asked for; see package.py for what is kept and what is refused.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import io
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, cast

from pmc_pipeline.model import (
    ArticleRef,
    FetchError,
    Layout,
    LayoutError,
    MissingFile,
    ParseError,
    UnsafeInput,
)

from .base import (
    CLOUD_MARKERS,
    ArticleFiles,
    Source,
    listing_errors,
    markers_found,
    parse_pmcids,
    pmcid_number,
)
from .filelists import is_package, parse_csv_list, parse_txt_list
from .limits import Limits
from .package import TRUNCATED, DamagedArchive, Package, read_package
from .pairing import THUMBNAIL, image_extension, match_href
from .selection import updated_since
from .store import Damaged, HashingReader, Retryable, Store

MAIN_LISTS = ("oa_file_list.csv", "oa_file_list.txt")
BULK_LIST_SUFFIX = ".filelist.csv"
BULK_FOLDER = "oa_bulk/"


class LegacySource(Source):
    """file_list: the key of the list naming the packages (None: oa_file_list.csv, else
    oa_file_list.txt). bulk_lists: keys of bulk *.filelist.csv lists to take Retracted and
    dates from (None: those at the root and under oa_bulk/; [] for none)."""

    layout = Layout.LEGACY

    def __init__(
        self,
        store: Store,
        *,
        limits: Limits | None = None,
        file_list: str | None = None,
        bulk_lists: Iterable[str] | None = None,
    ) -> None:
        self.store = store
        self.limits = limits or Limits()
        self.file_list = file_list
        self.bulk_lists = None if bulk_lists is None else list(bulk_lists)

    # --- listing ------------------------------------------------------------------------

    def check_root(self) -> None:
        """The root must hold a file list: the package list (oa_file_list.csv or .txt, or
        the `file_list` given) or a bulk *.filelist.csv."""
        with listing_errors(self.store):
            if self.file_list is not None:
                found = self.store.head(self.file_list) is not None
            else:
                found = self._main_list() is not None or bool(self._bulk_lists(None))
            if found:
                return
            cloud = markers_found(self.store, CLOUD_MARKERS)
        looked_for = (
            self.file_list
            if self.file_list is not None
            else f"{' or '.join(MAIN_LISTS)}, nor *{BULK_LIST_SUFFIX} at the root or under "
            f"{BULK_FOLDER}"
        )
        if cloud:
            raise LayoutError(
                f"{self.store.uri} looks like a cloud PMC root (it has {', '.join(cloud)}) and "
                f"has no {looked_for}: use --layout cloud"
            )
        raise LayoutError(f"{self.store.uri} is not a legacy PMC root: it has no {looked_for}")

    def _list(
        self,
        since: dt.date | None,
        pmcids: Iterable[str] | None,
        all_versions: bool,  # the legacy layout holds one version per article
    ) -> Iterator[ArticleRef]:
        wanted = {pmcid for pmcid, _ in parse_pmcids(pmcids)} if pmcids is not None else None

        def keep(ref: ArticleRef) -> bool:
            return wanted is None or ref.pmcid in wanted

        with listing_errors(self.store):
            main_key = self._main_list()
            bulk_keys = self._bulk_lists(main_key)
            self.listed_from = {"kind": "file_list", "file": main_key, "bulk_lists": bulk_keys}
            main = self._read_list(main_key, keep) if main_key else {}
            extra: dict[int, ArticleRef] = {}
            for key in bulk_keys:
                for number, ref in self._read_list(key, keep).items():
                    extra[number] = _newer(extra.get(number), ref)
        refs = {n: _merge(main.get(n), extra.get(n)) for n in main.keys() | extra.keys()}
        for pmcid in sorted(wanted or ()):
            refs.setdefault(pmcid_number(pmcid), ArticleRef(pmcid, None, Layout.LEGACY, ""))
        for number in sorted(refs):
            if updated_since(refs[number].last_updated, since):
                yield refs[number]

    def _main_list(self) -> str | None:
        if self.file_list is not None:
            return self.file_list
        return next((key for key in MAIN_LISTS if self.store.head(key) is not None), None)

    def _bulk_lists(self, main_key: str | None) -> list[str]:
        """The bulk lists to read. The root's listing must show the package list found
        beside it (a check that the listing is whole: an index page that is cut short or
        garbled would otherwise drop the bulk lists, and the Retracted flags with them)."""
        if self.bulk_lists is not None:
            return self.bulk_lists
        found = [i.key for i in self.store.list("", recursive=False)]
        if main_key is not None and "/" not in main_key and main_key not in found:
            raise FetchError(
                f"incomplete_listing: the listing of {self.store.uri} does not show "
                f"{main_key}, which exists"
            )
        found += [i.key for i in self.store.list(BULK_FOLDER)]
        lists = {k for k in found if k.endswith(BULK_LIST_SUFFIX)}
        # NCBI's bulk tree lists every article twice, beside its xml/ and its txt/ tarballs:
        # the xml/ lists are enough.
        if any("/xml/" in k for k in lists):
            lists = {k for k in lists if "/txt/" not in k}
        return sorted(lists)

    def _read_list(self, key: str, keep: Callable[[ArticleRef], bool]) -> dict[int, ArticleRef]:
        """One file list, streamed (the full oa_file_list.csv is hundreds of MB) and checked
        whole (see filelists.py). A read that breaks off or fails a check starts over, so
        no row is counted twice or lost; one that fails every attempt fails the listing."""
        parse = parse_txt_list if key.lower().endswith(".txt") else parse_csv_list

        def attempt() -> dict[int, ArticleRef]:
            rows: dict[int, ArticleRef] = {}
            with self.store.open(key, max_bytes=self.limits.listing) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                try:
                    for ref in parse(text, name=key):
                        if keep(ref):
                            number = pmcid_number(ref.pmcid)
                            rows[number] = _newer(rows.get(number), ref)
                except (ParseError, UnicodeDecodeError, csv.Error) as exc:
                    raise Retryable(f"corrupt_list: {key}: {exc}") from exc
            return rows

        return self.store.retry.call(attempt)

    # --- one article --------------------------------------------------------------------

    def open_article(self, ref: ArticleRef) -> LegacyArticleFiles:
        if not is_package(ref.location):
            raise MissingFile(f"missing: no package listed for {ref.pmcid} in {self.store.uri}")
        return LegacyArticleFiles(self.store, ref, self.limits)


class LegacyArticleFiles(ArticleFiles):
    metadata = None

    def __init__(self, store: Store, ref: ArticleRef, limits: Limits) -> None:
        self.store = store
        self.ref = ref
        self.limits = limits
        self.bytes_read = 0
        self._package: Package | None = None

    def package(self) -> Package:
        if self._package is None:
            self._package = load_package(self.store, self.ref.location, self.limits)
            self.bytes_read += self._package.compressed_bytes
        return self._package

    def xml(self) -> bytes:
        return cast(bytes, self.package().xml)  # a package without its XML is refused

    def image(self, href: str) -> tuple[str, bytes]:
        package = self.package()
        name = match_href(href, [*package.images, *package.refused])
        if package.damage and (name is None or image_extension(name) == THUMBNAIL):
            # The package was cut short at the source: the full image may have been in the
            # part that is lost, so neither "no image" nor the thumbnail would be true.
            found = f"; only {name} was read" if name else ""
            detail = package.damage.split(": ", 2)[-1]
            raise UnsafeInput(
                f"{TRUNCATED}: {package.name} ends before the image for href {href!r}"
                f" ({detail}{found})"
            )
        if name is None:
            raise MissingFile(f"missing: no member of {package.name} for href {href!r}")
        if name in package.refused:
            raise UnsafeInput(package.refused[name])
        return name, package.images[name]


def load_package(store: Store, key: str, limits: Limits) -> Package:
    """Stream one package, retrying a transfer fault or a damaged archive.

    A damaged archive (one that ends early, or fails inflate or its gzip CRC) is fetched
    again: damage in transit is random, so when two attempts get the same bytes the damage
    is at the source. Damaged at the source, a package cut short after its XML is kept as
    far as it goes (figures whose image came later are refused by `image`); any other is
    refused as UnsafeInput. When no two attempts agree, it ends as FetchError
    'damaged_in_transit', which the build records as fetch_failed (retryable)."""

    def attempt() -> Package:
        with store.open(key, max_bytes=limits.package) as stream:
            hashed = HashingReader(stream)
            try:
                return read_package(cast(BinaryIO, hashed), name=key, limits=limits)
            except DamagedArchive as exc:
                hashed.drain()  # the fingerprint covers the whole body, not just its start
                at_source = functools.partial(_damaged_at_source, exc)
                raise Damaged(str(exc), hashed.fingerprint(), at_source) from exc

    return store.retry.call(attempt)


def _damaged_at_source(damaged: DamagedArchive) -> Package:
    package = damaged.package
    if cast(str, package.damage).startswith(TRUNCATED) and package.xml is not None:
        return package
    raise UnsafeInput(str(damaged)) from damaged


def _newer(current: ArticleRef | None, ref: ArticleRef) -> ArticleRef:
    """Of two rows for one article, the one updated last (the later row on a tie)."""
    if current is None or (ref.last_updated or "") >= (current.last_updated or ""):
        return ref
    return current


def _merge(main: ArticleRef | None, extra: ArticleRef | None) -> ArticleRef:
    """A package list row completed by a bulk list row (dates, Retracted). A bulk row alone
    names an XML in a bulk tarball, not a package, so it has no location."""
    if main is None:
        assert extra is not None
        return extra if is_package(extra.location) else dataclasses.replace(extra, location="")
    if extra is None:
        return main
    flags = {main.retracted, extra.retracted}
    return dataclasses.replace(
        main,
        last_updated=main.last_updated or extra.last_updated,
        pmid=main.pmid or extra.pmid,
        citation=main.citation or extra.citation,
        license=main.license or extra.license,
        retracted=True if True in flags else (False if False in flags else None),
    )
