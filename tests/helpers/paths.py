"""Where the project is, and the real third-party fixtures it reads in place from
../shared/fixtures (never copied here): a test that needs them skips with a clear message
when the folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures"


def shared_fixture(*parts: str) -> Path:
    """Path under ../shared/fixtures, or skip the test when the folder is absent."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real PMC fixtures not found at {path} (../shared/fixtures is absent)")
    return path
