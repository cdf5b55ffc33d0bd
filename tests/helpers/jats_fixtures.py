"""The real JATS articles in ../shared/fixtures/jats, their expected.json, and what
parse_article makes of each (parsed once per test session)."""

from __future__ import annotations

import json
from functools import cache

from helpers.paths import SHARED_FIXTURES, shared_fixture
from pmc_pipeline.jats import parse_article
from pmc_pipeline.model import Article

JATS_DIR = SHARED_FIXTURES / "jats"


@cache
def expected_files() -> dict:
    path = shared_fixture("jats", "expected.json")
    return json.loads(path.read_text(encoding="utf-8"))["files"]


def fixture_names() -> list[str]:
    # Collected without the folder too: each test then skips through shared_fixture().
    path = JATS_DIR / "expected.json"
    if not path.exists():
        return ["(fixtures absent)"]
    return sorted(json.loads(path.read_text(encoding="utf-8"))["files"])


@cache
def parsed(name: str) -> tuple[bytes, Article]:
    """The fixture's bytes and parse_article of them."""
    xml = shared_fixture("jats", name).read_bytes()
    return xml, parse_article(xml)
