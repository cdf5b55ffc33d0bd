"""What both PMC layouts offer the build: a Source lists article versions and opens one as
ArticleFiles (its metadata, its XML, and the full image behind each graphic href)."""

from __future__ import annotations

import contextlib
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

from pmc_pipeline.model import (
    ArticleRef,
    FetchError,
    ListingError,
    ParseError,
    UnsafeInput,
    normalize_pmcid,
)

from .limits import Limits
from .store import Store


class ArticleFiles(ABC):
    """The files of one article version, fetched on demand.

    `metadata` is the cloud metadata JSON (None in the legacy layout); `bytes_read` counts
    every body fetched so far for this article (for bytes-per-figure accounting).
    """

    ref: ArticleRef
    metadata: dict | None = None
    bytes_read: int = 0

    @abstractmethod
    def xml(self) -> bytes:
        """The article XML."""

    @abstractmethod
    def image(self, href: str) -> tuple[str, bytes]:
        """(file or member name, bytes) of the full image for a graphic href. Raises
        MissingFile when there is none, UnsafeInput when it was refused."""


class Source(ABC):
    """A PMC layout on top of a store. Picklable: it holds only the store and options."""

    layout: str
    store: Store
    limits: Limits
    # What the last list_articles read its listing from (e.g. the inventory manifest and its
    # date), for stats.json; set while listing.
    listed_from: dict | None = None

    @abstractmethod
    def check_root(self) -> None:
        """Raise LayoutError unless the root holds this layout (a few small requests).
        list_articles calls it first; a build calls it before any work."""

    def list_articles(
        self,
        *,
        since: dt.date | None = None,
        pmcids: Iterable[str] | None = None,
        all_versions: bool = False,
    ) -> Iterator[ArticleRef]:
        """Article versions in a deterministic order (by PMCID number, then version).

        since: keep versions updated on or after this date (unknown dates are kept).
        pmcids: only these articles ('PMC123', '123' or 'PMC123.2'); one asked for but not
        found is still listed, so that it ends with a recorded reason (missing).
        all_versions: every version instead of the newest of each article.

        The listing is all or nothing: LayoutError when the root does not hold the layout
        (check_root, first), ListingError when any file or page it needs stays unreadable
        after the retries, both before the first article is yielded.
        """
        self.check_root()
        yield from self._list(since, pmcids, all_versions)

    @abstractmethod
    def _list(
        self, since: dt.date | None, pmcids: Iterable[str] | None, all_versions: bool
    ) -> Iterator[ArticleRef]:
        """The layout's listing, once check_root has passed (see list_articles)."""

    @abstractmethod
    def open_article(self, ref: ArticleRef) -> ArticleFiles:
        """The files of `ref`. May fetch (cloud: the metadata JSON) and raise MissingFile,
        FetchError, UnsafeInput or ParseError."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r})"


# What each layout has at its root (a folder prefix ends with '/'), for check_root.
CLOUD_MARKERS = ("inventory-reports/", "metadata/")
LEGACY_MARKERS = ("oa_file_list.csv", "oa_file_list.txt", "oa_package/")


@contextlib.contextmanager
def listing_errors(store: Store) -> Iterator[None]:
    """Turn a failure while listing (a store error after its retries, a file that does not
    parse, a listing over its cap) into ListingError naming the root."""
    try:
        yield
    except (FetchError, ParseError, UnsafeInput, OSError) as exc:
        raise ListingError(f"cannot list {store.uri}: {exc}") from exc


def has_objects(store: Store, prefix: str) -> bool:
    """Whether any object's key starts with `prefix` (reads one page of the listing)."""
    with contextlib.closing(store.list(prefix)) as found:
        return next(found, None) is not None


def markers_found(store: Store, markers: Iterable[str]) -> list[str]:
    """Which of `markers` (keys, or folder prefixes ending with '/') exist under the root."""
    return [m for m in markers if (has_objects(store, m) if m.endswith("/") else store.head(m))]


def pmcid_number(pmcid: str) -> int:
    """'PMC10009416' -> 10009416, for numeric ordering."""
    return int(pmcid[3:])


def parse_pmcids(values: Iterable[str]) -> list[tuple[str, int | None]]:
    """(pmcid, version) pairs from PMCIDs as users write them, one per item; blank items
    and '#' comments are skipped; duplicates are dropped. Raises ValueError on a bad ID."""
    seen: dict[tuple[str, int | None], None] = {}
    for value in values:
        text = value.split("#", 1)[0].strip()
        if text:
            seen.setdefault(normalize_pmcid(text), None)
    return list(seen)


def read_pmcid_file(path: str) -> list[str]:
    """The PMCIDs of a text file, one per line ('#' starts a comment)."""
    with open(path, encoding="utf-8") as handle:
        return [line for line in handle if line.split("#", 1)[0].strip()]
