"""Selection: exclusion reasons, licence allowlists, --since."""

from __future__ import annotations

import datetime as dt

import pytest

from pmc_pipeline.licenses import license_allowlist
from pmc_pipeline.model import ArticleRef, Layout
from pmc_pipeline.sources.selection import (
    exclusion_reason,
    parse_flag,
    updated_since,
)

REF = ArticleRef("PMC1", 1, Layout.CLOUD, "PMC1.1/")
META = {"is_retracted": False, "is_pmc_openaccess": True, "license_code": "CC BY"}


def test_keeps_an_open_unretracted_article_under_an_allowed_licence():
    assert exclusion_reason(REF, META, licenses=None) is None
    assert exclusion_reason(REF, META, licenses=["CC BY", "CC0"]) is None
    assert exclusion_reason(REF, META, licenses=["cc-by"]) is None


def test_retracted_first_from_metadata_or_listing():
    assert exclusion_reason(REF, {**META, "is_retracted": True}, licenses=None) == "retracted"
    legacy = ArticleRef("PMC1", None, Layout.LEGACY, "x.tar.gz", retracted=True)
    assert exclusion_reason(legacy, None, licenses=["CC0"]) == "retracted"


def test_not_open_access():
    meta = {**META, "is_pmc_openaccess": False}
    assert exclusion_reason(REF, meta, licenses=None) == "not_open_access"
    assert exclusion_reason(REF, {**META, "is_pmc_openaccess": "false"}, licenses=None) == (
        "not_open_access"
    )
    # Absent means unknown, not closed.
    assert exclusion_reason(REF, {"license_code": "CC BY"}, licenses=None) is None


def test_licence_not_allowed_names_the_normalised_code():
    meta = {**META, "license_code": "CC BY-NC"}
    assert exclusion_reason(REF, meta, licenses=["CC BY"]) == "license_not_allowed:CC BY-NC"
    assert exclusion_reason(REF, {**META, "license_code": None}, licenses=["CC BY"]) == (
        "license_not_allowed:unknown"
    )


def test_legacy_licence_comes_from_the_listing():
    ref = ArticleRef("PMC1", None, Layout.LEGACY, "x.tar.gz", license="NO-CC CODE")
    assert exclusion_reason(ref, None, licenses=["CC BY"]) == "license_not_allowed:NO-CC CODE"
    assert exclusion_reason(ref, None, licenses=["CC BY", "NO-CC CODE"]) is None


def test_an_allowlist_entry_that_names_no_licence_is_an_error():
    assert license_allowlist(["cc by 4.0", "CC0"]) == {"CC BY", "CC0"}
    with pytest.raises(ValueError, match="unknown licence"):
        license_allowlist(["CC-BYY"])


def test_updated_since_is_on_or_after_the_day():
    since = dt.date(2026, 11, 1)
    assert updated_since("2026-11-01T00:00:00Z", since)
    assert updated_since("2026-11-01 23:59:59", since)
    assert not updated_since("2026-10-31T23:59:59.000Z", since)
    assert updated_since(None, since)  # unknown is kept
    assert updated_since("2020-01-01", None)


def test_flags():
    assert parse_flag("yes") is True and parse_flag("no") is False and parse_flag("") is None
    assert parse_flag(True) is True and parse_flag(0) is False and parse_flag(None) is None
