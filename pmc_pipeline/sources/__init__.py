"""Where PMC articles come from: stores (a directory, HTTP(S), S3) and the two PMC layouts
(cloud, legacy) on top of any store. See docs/sources.md.

    store = open_store("s3://pmc-oa-opendata")            # or "https://mirror/pmc/", "/data/pmc"
    source = open_source("cloud", "s3://pmc-oa-opendata")  # or ("legacy", "https://mirror/pmc/")
    for ref in source.list_articles(since=datetime.date(2026, 11, 1)):
        files = source.open_article(ref)    # cloud: reads the metadata JSON
        xml = files.xml()
        name, data = files.image(href)     # the full image for a graphic href

A listing is whole or raises: `source.check_root()` raises LayoutError when the root does
not hold the layout, `list_articles` raises ListingError (LayoutError is one) when a page or
file it needs stays unreadable after the retries.
"""

from __future__ import annotations

import inspect
from urllib.parse import unquote, urlsplit

from pmc_pipeline.model import Layout, LayoutError, ListingError

from .base import ArticleFiles, Source, parse_pmcids, read_pmcid_file
from .limits import Limits
from .store import ObjectInfo, RetryPolicy, Store

__all__ = [
    "ArticleFiles",
    "LayoutError",
    "Limits",
    "ListingError",
    "ObjectInfo",
    "RetryPolicy",
    "Source",
    "Store",
    "open_source",
    "open_store",
    "parse_pmcids",
    "read_pmcid_file",
]

# Options open_source keeps for the layout; every other option goes to the store.
_SOURCE_OPTIONS: dict[str, tuple[str, str]] = {
    Layout.CLOUD: ("listing", "inventory_prefix"),
    Layout.LEGACY: ("file_list", "bulk_lists"),
}


def open_store(uri: str, **options) -> Store:
    """A store for '/dir', 'file:///dir', 'http(s)://host/prefix' or 's3://bucket/prefix'.
    Options are those of LocalStore, HttpStore or S3Store; one that does not apply to the
    URI's kind of store is an error rather than silently ignored."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "s3":
        from .s3 import S3Store

        return _construct(S3Store, uri, parts.netloc, parts.path.lstrip("/"), **options)
    if scheme in ("http", "https"):
        from .http import HttpStore

        return _construct(HttpStore, uri, uri, **options)
    if scheme == "file":
        from .local import LocalStore

        return _construct(LocalStore, uri, unquote(parts.path), **options)
    if scheme and len(scheme) > 1:  # 'C:\\...' has a one-letter "scheme"
        raise ValueError(
            f"unsupported store URI {uri!r} (use a path, file://, http(s):// or s3://)"
        )
    from .local import LocalStore

    return _construct(LocalStore, uri, uri, **options)


def open_source(layout: str, root: str, **options) -> Source:
    """The PMC `layout` (Layout.CLOUD or Layout.LEGACY) under `root`.

    Options: limits (a Limits, or a dict of its fields); for cloud `listing`
    ('auto'|'inventory'|'metadata') and `inventory_prefix`; for legacy `file_list` and
    `bulk_lists`; `store` (a ready Store, instead of opening `root`); every other option
    is passed to open_store.
    """
    if layout not in _SOURCE_OPTIONS:
        raise ValueError(f"unknown layout {layout!r} (use {Layout.CLOUD!r} or {Layout.LEGACY!r})")
    limits = options.pop("limits", None)
    if isinstance(limits, dict):
        limits = Limits(**limits)
    own = {k: options.pop(k) for k in _SOURCE_OPTIONS[layout] if k in options}
    store = options.pop("store", None) or open_store(root, **options)
    if layout == Layout.CLOUD:
        from .cloud import CloudSource

        return CloudSource(store, limits=limits, **own)
    from .legacy import LegacySource

    return LegacySource(store, limits=limits, **own)


def _construct(cls, uri: str, *args, **options):
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(f"option(s) {', '.join(unknown)} do not apply to {cls.__name__} ({uri})")
    return cls(*args, **options)
