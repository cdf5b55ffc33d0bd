"""The legacy FTP layout (what PMC-15M was built from; gone from NCBI since August 2026,
alive in mirrors): file lists at the root and one `oa_package/xx/yy/PMCnnn.tar.gz` per
article, read from any store. A package is streamed once, in memory, when the article's
XML or first image is asked for; see package.py for what is kept and what is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
from collections.abc import Callable, Iterable, Iterator

from pmc_pipeline.model import ArticleRef, Layout, MissingFile, UnsafeInput

from .base import ArticleFiles, Source, parse_pmcids, pmcid_number
from .filelists import is_package, parse_csv_list, parse_txt_list
from .limits import Limits
from .package import TRUNCATED, DamagedArchive, Package, read_package
from .pairing import THUMBNAIL, image_extension, match_href
from .selection import updated_since
from .store import Damaged, HashingReader, Store

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

    def list_articles(
        self,
        *,
        since: dt.date | None = None,
        pmcids: Iterable[str] | None = None,
        all_versions: bool = False,  # the legacy layout holds one version per article
    ) -> Iterator[ArticleRef]:
        wanted = {pmcid for pmcid, _ in parse_pmcids(pmcids)} if pmcids is not None else None

        def keep(ref: ArticleRef) -> bool:
            return wanted is None or ref.pmcid in wanted

        main_key = self._main_list()
        bulk_keys = self._bulk_lists()
        if main_key is None and not bulk_keys:
            raise MissingFile(
                f"missing: no {' or '.join(MAIN_LISTS)} or *{BULK_LIST_SUFFIX} under {self.store.uri}"
            )
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

    def _bulk_lists(self) -> list[str]:
        if self.bulk_lists is not None:
            return self.bulk_lists
        found = [i.key for i in self.store.list("", recursive=False)]
        found += [i.key for i in self.store.list(BULK_FOLDER)]
        lists = {k for k in found if k.endswith(BULK_LIST_SUFFIX)}
        # NCBI's bulk tree lists every article twice, beside its xml/ and its txt/ tarballs:
        # the xml/ lists are enough.
        if any("/xml/" in k for k in lists):
            lists = {k for k in lists if "/txt/" not in k}
        return sorted(lists)

    def _read_list(self, key: str, keep: Callable[[ArticleRef], bool]) -> dict[int, ArticleRef]:
        """One file list, streamed (the full oa_file_list.csv is hundreds of MB); a read
        that breaks off starts over, so no row is counted twice or lost."""
        parse = parse_txt_list if key.lower().endswith(".txt") else parse_csv_list

        def attempt() -> dict[int, ArticleRef]:
            rows: dict[int, ArticleRef] = {}
            with self.store.open(key, max_bytes=self.limits.listing) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
                for ref in parse(text):
                    if keep(ref):
                        number = pmcid_number(ref.pmcid)
                        rows[number] = _newer(rows.get(number), ref)
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
        return self.package().xml

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
                return read_package(hashed, name=key, limits=limits)
            except DamagedArchive as exc:
                hashed.drain()  # the fingerprint covers the whole body, not just its start
                at_source = functools.partial(_damaged_at_source, exc)
                raise Damaged(str(exc), hashed.fingerprint(), at_source) from exc

    return store.retry.call(attempt)


def _damaged_at_source(damaged: DamagedArchive) -> Package:
    package = damaged.package
    if package.damage.startswith(TRUNCATED) and package.xml is not None:
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
