"""Shared test helpers. Real third-party fixtures are read in place from ../shared/fixtures
(never copied here); tests that need them skip with a clear message when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"


def shared_fixture(*parts: str) -> Path:
    """Path under ../shared/fixtures, or skip the test when the folder is absent."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real PMC fixtures not found at {path} (../shared/fixtures is absent)")
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    return shared_fixture()
