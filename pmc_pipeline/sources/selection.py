"""Which listed articles to keep: updated since a date, open access, not retracted, under an
allowed licence. Excluded articles are never dropped silently: the build records each
with ArticleStatus.EXCLUDED and the reason returned here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from pmc_pipeline.licenses import license_allowlist, normalize_license
from pmc_pipeline.model import ArticleRef

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


def parse_flag(value) -> bool | None:
    """A JSON or CSV yes/no value (true, "yes", "1") as a bool; None when absent or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def article_license(ref: ArticleRef, metadata: dict | None) -> str | None:
    """The normalised licence: the cloud metadata's license_code, else the listing's."""
    stated = metadata.get("license_code") if metadata else None
    return normalize_license(stated) or normalize_license(ref.license)


def exclusion_reason(
    ref: ArticleRef, metadata: dict | None, *, licenses: Collection[str] | None
) -> str | None:
    """Why this article is excluded ('retracted', 'not_open_access',
    'license_not_allowed:CC BY-NC', 'license_not_allowed:unknown'), or None to keep it.
    `licenses` None allows every licence."""
    if ref.retracted or (metadata is not None and parse_flag(metadata.get("is_retracted"))):
        return "retracted"
    if metadata is not None and parse_flag(metadata.get("is_pmc_openaccess")) is False:
        return "not_open_access"
    if licenses is not None:
        code = article_license(ref, metadata)
        if code not in license_allowlist(licenses):
            return f"license_not_allowed:{code or 'unknown'}"
    return None


def updated_since(last_updated: str | None, since: dt.date | None) -> bool:
    """True when a version updated at `last_updated` (ISO 8601) counts as updated on or
    after `since`. An unknown or unreadable date is kept: better fetched twice than lost."""
    if since is None or not last_updated:
        return True
    try:
        day = dt.date.fromisoformat(last_updated[:10])
    except ValueError:
        return True
    return day >= since
